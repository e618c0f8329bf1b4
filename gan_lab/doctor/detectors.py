"""Detectors of the classic GAN failures, fed with values the loop has already read back.

Each detector turns one observation (a logging step's losses, D outputs and gradient norms, or a
sample step's diversity and checkerboard scores) into "bad" or "fine" plus the evidence. A detector
fires once after `patience` bad observations in a row and clears after as many fine ones.

Tuned so that healthy runs stay quiet (README, GAN doctor): early samples are noise whose scores beyond
the limits say nothing yet, so the sample checks judge a score beyond its limit (relative to real images
at the same resolution) only once it has stopped improving on the run's own previous grids
(doctor.sample_trend).
"""

from __future__ import annotations

import bisect
import math
import statistics
from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass

from omegaconf import DictConfig

from gan_lab.doctor.upsampling import GENERIC, checkerboard_advice

# Observation keys: the TensorBoard tags the loop logs, plus the two sample scores.
OBSERVED = ("loss/D", "loss/G", "prob/D_real", "prob/D_fake")  # with grad_norm/G and grad_norm/D (lists)
DIVERSITY, CHECKERBOARD = "doctor/diversity", "doctor/checkerboard"


@dataclass
class Event:
    """A detector firing or clearing at a step."""

    check: str
    state: str  # "fired" or "cleared"
    step: int
    evidence: str
    advice: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


class Detector(ABC):
    """A condition with hysteresis; subclasses define `name`, `title`, `advice` and `test`."""

    name = title = advice = ""
    on_samples = False  # fed from sample steps instead of logging steps

    def __init__(self, patience: int = 1, warmup: int = 0):
        self.patience, self.warmup = patience, warmup  # observations before step `warmup` are not judged
        self.active = False
        self.streak = 0  # observations in a row that disagree with the current state

    @abstractmethod
    def test(self, obs: dict) -> tuple[bool, str] | None:
        """(bad, evidence) for one observation, or None when it holds nothing to judge."""

    def update(self, step: int, obs: dict) -> Event | None:
        result = self.test(obs) if step >= self.warmup else None
        if result is None:
            return None
        bad, evidence = result
        self.streak = self.streak + 1 if bad != self.active else 0
        if self.streak < self.patience:
            return None
        self.active, self.streak = bad, 0
        return Event(self.name, "fired" if bad else "cleared", step, evidence, self.advice if bad else "")


def _finite(*values: float) -> bool:
    return all(v is not None and math.isfinite(v) for v in values)


class DWins(Detector):
    name, title = "d_wins", "D wins"
    advice = (
        "D tells real from generated with near certainty, so G learns little from it. Weaken D or help G: "
        "lower optim.lr_D or raise optim.lr_G, fewer D filters or model.d_dropout, soft or noisy labels "
        "(tricks=soft, smooth, noisy), instance noise (tricks=instance_noise). If D's loss goes to 0 early "
        "the run rarely recovers: restart with a change (doctor.stop_on_collapse=true stops such runs)."
    )

    def __init__(self, patience: int, loss: float, margin: float, use_probs: bool, flipped: bool):
        super().__init__(patience)
        self.loss, self.margin, self.use_probs, self.flipped = loss, margin, use_probs, flipped

    def test(self, obs):
        loss, real, fake = obs.get("loss/D"), obs.get("prob/D_real"), obs.get("prob/D_fake")
        if not _finite(loss, real, fake):
            return None
        # under flipped labels (real = 0, generated = 1) a winning D pushes D(x) to 0 and D(G(z)) to 1
        sure_real, sure_fake = (1 - real, 1 - fake) if self.flipped else (real, fake)
        bad = loss < self.loss and (not self.use_probs or (sure_real > 1 - self.margin and sure_fake < self.margin))
        return bad, f"loss/D {loss:.3f}, D(x) {real:.3f}, D(G(z)) {fake:.3f}" + (
            " (flipped labels)" if self.flipped else ""
        )


class NormHistory:
    """A layer's gradient norms so far and their median, once there are ENOUGH of them to call it usual."""

    ENOUGH = 5

    def __init__(self):
        self.values: list[float] = []  # kept sorted: the median's sort is then linear, not n log n, per log

    def __len__(self) -> int:
        return len(self.values)

    def add(self, value: float) -> None:
        bisect.insort(self.values, value)

    def median(self) -> float | None:
        return statistics.median(self.values) if len(self.values) >= self.ENOUGH else None


class GStarves(Detector):
    name, title = "g_starves", "G starves"
    advice = (
        "G's bottom layer (next to z) gets almost no gradient, so the start of G barely learns. Vanishing "
        "gradients: avoid saturating activations in G (model.g_activation=relu), "
        "keep BatchNorm in G (model.norm_G=batch), use the non-saturating loss (loss=bce, not minimax), and check "
        "that D is not winning outright."
    )

    def __init__(self, patience: int, ratio: float, min_norm: float | None):
        super().__init__(patience)
        self.ratio, self.min_norm = ratio, min_norm
        self.tops = NormHistory()  # the top layer's norms so far

    def test(self, obs):
        norms = obs.get("grad_norm/G") or []
        if len(norms) < 2 or not _finite(norms[0], norms[-1]):
            return None
        bottom, top = norms[0], norms[-1]
        usual_top = self.tops.median()
        usual_top = top if usual_top is None else usual_top
        self.tops.add(top)
        if self.min_norm is not None and bottom < self.min_norm:  # e.g. the saturating loss once D wins
            return True, f"G's bottom-layer gradient norm {bottom:.2g} < {self.min_norm:g}, top layer {top:.2g}"
        # Against the top layer's usual norm when it is above it: a top layer whose gradients grow (frog_tips'
        # 5x5, 128-filter G: 36 -> 318 over 5,000 steps) does not starve a bottom layer that keeps its own.
        top = min(top, usual_top)
        if top <= 0:
            return None
        ratio = bottom / top
        return ratio < self.ratio, f"G bottom/top gradient norm {bottom:.2g} / {top:.2g} = {ratio:.2g}"


class Exploding(Detector):
    """A layer's gradient norm above the absolute limit (ganhacks: 100) and far above that layer's own usual range.

    A healthy D's first layers swing between tens and hundreds of steps apart (kernel 3, 16 filters:
    6 to 650 in 300 steps with sound losses), so once a layer has a history its norm must also reach
    USUAL_RANGE x its median so far; until then the absolute limit alone judges it, and so it does a layer
    whose first NormHistory.ENOUGH norms had a median over the limit (a run that explodes from the start cannot make
    explosions usual). A layer that started within the limit and grew past it slowly keeps its own median
    (frog_tips' G output layer: 36 at first, a median of ~150 by step 4,000, fine samples).
    """

    name, title = "exploding", "exploding gradients"
    advice = (
        "A gradient norm far above the usual range (ganhacks: over 100, things are going wrong). Lower the "
        "learning rates (optim.lr_G, optim.lr_D), clip gradients (optim.clip_norm=10), or normalise D "
        "(model.norm_D=spectral)."
    )
    USUAL_RANGE = 10  # a norm this many times the layer's median so far is outside its usual range

    def __init__(self, patience: int, grad_norm: float):
        super().__init__(patience)
        self.limit = grad_norm
        self.history: dict[tuple[str, int], NormHistory] = {}  # each layer's norms so far
        self.first: dict[tuple[str, int], float] = {}  # the median of each layer's first NormHistory.ENOUGH norms

    def test(self, obs):
        worst = None  # (how far past its limits, norm, layer, its median so far or None)
        for net in ("G", "D"):
            for index, norm in enumerate(obs.get(f"grad_norm/{net}") or []):
                if not math.isfinite(norm):
                    continue
                seen = self.history.setdefault((net, index), NormHistory())
                median = seen.median()
                if len(seen) == NormHistory.ENOUGH:
                    self.first[(net, index)] = median
                usual = median if median is not None and self.first[(net, index)] <= self.limit else None
                over = norm / max(self.limit, self.USUAL_RANGE * usual if usual else 0.0)
                if worst is None or over > worst[0]:
                    worst = (over, norm, (net, index), usual)
                seen.add(norm)
        if worst is None:
            return None
        over, norm, (net, index), usual = worst
        against = f", {norm / usual:.0f}x its median so far" if usual else ""
        return over > 1, f"gradient norm {norm:.3g} ({net} layer {index:02d}{against})"


# A sample score still improves when it beats the best of the previous grids by more than this fraction.
IMPROVING = 0.1
# A score this many times beyond its limit is judged whatever its trend: early noise on healthy real runs
# reached 1.8x (the default run) and 2.2x (dcgan_frog) the checkerboard limit; gray128_transpose's first
# judged grid 3.6x, uneven transposed convs at 16 px 5-20x (README, GAN doctor).
FAR_BEYOND = 3.0


class SampleScore(Detector):
    """A score of the fixed-noise samples (relative to real images) against a limit, and against its own trend.

    A score beyond the limit is judged bad only once it has stopped improving: it is no better (by more
    than IMPROVING) than the best of the previous `trend` grids, warm-up grids included; until `trend`
    grids are in, it is not judged. A score FAR_BEYOND the limit is judged at once; trend 0 judges the
    limit alone. An active alarm clears once the score is back within its limit.
    """

    on_samples = True
    key, below, evidence = "", True, ""  # the observation, which side of the limit is bad, a format

    def __init__(self, patience: int, warmup: int, limit: float, trend: int = 0):
        super().__init__(patience, warmup)
        self.limit, self.trend = limit, trend
        self.history: list[float] = []  # every grid's score, in step order
        self.steps: list[int] = []  # the steps of those grids

    def repeat(self, step: int) -> bool:
        """A grid less than half the usual interval after the previous one: the final grid of a run that stopped
        just after a regular one (trainer.time_limit, a signal). It shows nothing new and is not judged, lest it
        count as "no better than the grid before it"."""
        if len(self.steps) < 2:
            return False
        return step - self.steps[-1] < (self.steps[1] - self.steps[0]) / 2

    def improving(self, value: float) -> bool:
        """Better than the best of the previous `trend` scores by more than IMPROVING (or too few of them)."""
        if self.trend == 0:
            return False
        previous = self.history[-self.trend :]
        if len(previous) < self.trend:
            return True
        if self.below:  # higher is better (diversity)
            return value > max(previous) * (1 + IMPROVING)
        return value < min(previous) * (1 - IMPROVING)

    def update(self, step: int, obs: dict) -> Event | None:
        if self.repeat(step):
            return None
        event = super().update(step, obs)
        value = obs.get(self.key)
        if _finite(value):
            self.history.append(value)
            self.steps.append(step)
        return event

    def test(self, obs):
        value = obs.get(self.key)
        if not _finite(value):
            return None
        beyond = value < self.limit if self.below else value > self.limit
        far = value < self.limit / FAR_BEYOND if self.below else value > self.limit * FAR_BEYOND
        evidence = self.evidence.format(value)
        if beyond and not far and not self.active and self.improving(value):
            return None  # still getting better: early samples are not judged by a limit
        if beyond and far:
            evidence += f", over {FAR_BEYOND:g}x beyond the limit"
        elif beyond and self.trend:
            evidence += f", no better than the previous {self.trend} grid{'s' if self.trend > 1 else ''}"
        return beyond, evidence


class ModeCollapse(SampleScore):
    name, title = "mode_collapse", "mode collapse"
    key, below, evidence = DIVERSITY, True, "sample diversity {:.2f}x the real images'"
    advice = (
        "The fixed-noise samples look alike: G maps many z to the same few images. Common remedies: a stronger "
        "or better-conditioned D signal (tricks=instance_noise, soft labels), lower optim.lr_G, a larger "
        "model.latent_dim, minibatch-independent norms in D (model.norm_D=spectral or layer), or another loss "
        "(loss=wgan_gp, hinge)."
    )


class Checkerboard(SampleScore):
    name, title = "checkerboard", "checkerboard artifacts"
    key, below, evidence = CHECKERBOARD, False, "Nyquist power {:.1f}x the real images'"
    advice = GENERIC  # the doctor replaces it with advice read from G's layers (doctor/upsampling.py)


class Oscillation(Detector):
    name, title = "oscillation", "oscillating losses"
    advice = (
        "The losses swing up and down with growing amplitude: the two players overshoot each other. Lower the "
        "learning rates, use Adam's beta1 = 0.5 (optim.betas=[0.5,0.999]), keep an EMA of G "
        "(model.ema_decay=0.999), or regularise D (model.norm_D=spectral, loss=wgan_gp)."
    )

    def __init__(self, patience: int, window: int, growth: float, min_swing: float, min_relative: float):
        super().__init__(patience)
        self.window, self.growth, self.min_swing, self.min_relative = window, growth, min_swing, min_relative
        self.history: dict[str, list[float]] = {"loss/D": [], "loss/G": []}

    @staticmethod
    def swing(values: list[float]) -> float:
        """Up-and-down amplitude: the interquartile range of the values around their trend line.

        The trend is robust (Theil-Sen: the median of pairwise slopes), so a steady drift scores 0 and
        a single spike barely counts; a zigzag or a wave of peak-to-peak size A scores about 0.7 A to A.
        """
        n = len(values)
        slope = statistics.median((values[j] - values[i]) / (j - i) for i in range(n) for j in range(i + 1, n))
        offset = statistics.median(v - slope * i for i, v in enumerate(values))
        residuals = [v - offset - slope * i for i, v in enumerate(values)]
        low, _, high = statistics.quantiles(residuals, n=4, method="inclusive")
        return high - low

    def test(self, obs):
        verdicts = []
        for tag, history in self.history.items():
            value = obs.get(tag)
            if not _finite(value):
                continue
            history.append(value)
            del history[: -2 * self.window]
            if len(history) < 2 * self.window:
                continue
            before, recent = self.swing(history[: self.window]), self.swing(history[self.window :])
            level = statistics.median(abs(v) for v in history[self.window :])
            bad = recent >= max(self.min_swing, self.min_relative * level, self.growth * before)
            verdicts.append((bad, f"{tag} swings {recent:.2f} per log around {level:.2f}, was {before:.2f}"))
        if not verdicts:
            return None
        flagged = [evidence for bad, evidence in verdicts if bad]
        return (True, "; ".join(flagged)) if flagged else (False, "; ".join(e for _, e in verdicts))


class NonFinite(Detector):
    name, title = "non_finite", "non-finite values"
    advice = (
        "A logged loss, D output or gradient norm is NaN or infinite: training has diverged. Lower the learning "
        "rates, clip gradients (optim.clip_norm), use trainer.precision=fp32, and resume from an earlier checkpoint."
    )

    def test(self, obs):
        bad = []
        for tag, value in obs.items():
            values = value if isinstance(value, list) else [value]
            if any(isinstance(v, float) and not math.isfinite(v) for v in values):
                bad.append(tag)
        if not obs:
            return None
        return bool(bad), (f"non-finite {', '.join(bad)}" if bad else "all logged values finite")


# Every detector, in report order.
DETECTORS = (NonFinite, DWins, GStarves, Exploding, Oscillation, ModeCollapse, Checkerboard)


def build_detectors(d: DictConfig, loss: str, flipped: bool) -> list[Detector]:
    """The detectors the config enables (a null threshold turns its check off)."""
    found: list[Detector] = [NonFinite(patience=1)]
    # A strong critic is WGAN's design, and LSGAN's loss has no common "won" level: D wins is judged
    # on the losses whose D outputs probabilities (bce, minimax) and on hinge's loss alone.
    if d.d_wins.loss is not None and loss not in ("wgan_gp", "lsgan"):
        found.append(DWins(d.patience, d.d_wins.loss, d.d_wins.margin, loss in ("bce", "minimax"), flipped))
    if d.g_starves.ratio is not None:
        found.append(GStarves(d.patience, d.g_starves.ratio, d.g_starves.min_norm))
    if d.exploding.grad_norm is not None:
        found.append(Exploding(d.patience, d.exploding.grad_norm))
    if d.oscillation.growth is not None:
        o = d.oscillation
        found.append(Oscillation(d.patience, o.window, o.growth, o.min_swing, o.min_relative))
    if d.mode_collapse.fraction is not None:
        found.append(ModeCollapse(d.sample_patience, d.sample_warmup, d.mode_collapse.fraction, d.sample_trend))
    if d.checkerboard.score is not None:
        found.append(Checkerboard(d.sample_patience, d.sample_warmup, d.checkerboard.score, d.sample_trend))
    return found


def set_checkerboard_advice(detectors: list[Detector], G) -> None:
    """The checkerboard detector's advice, from how this G upsamples (doctor/upsampling.py)."""
    for detector in detectors:
        if isinstance(detector, Checkerboard):
            detector.advice = checkerboard_advice(G)
