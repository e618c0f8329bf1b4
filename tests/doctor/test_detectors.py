"""The detectors on hand-made observations, the verdicts built from their events, and the doctor.* keys."""

from __future__ import annotations

import math

import pytest
import torch.nn as nn
from hydra import compose, initialize_config_dir

from gan_lab.config.packaged import config_dir
from gan_lab.config.validate import validate_config
from gan_lab.doctor.detectors import (
    CHECKERBOARD,
    DIVERSITY,
    Checkerboard,
    DWins,
    Exploding,
    GStarves,
    ModeCollapse,
    NonFinite,
    Oscillation,
    build_detectors,
)
from gan_lab.doctor.report import job_line, verdicts
from gan_lab.doctor.upsampling import checkerboard_advice
from gan_lab.errors import UserError


def compose_cfg(*overrides: str):
    with initialize_config_dir(config_dir=str(config_dir()), version_base="1.3"):
        return compose(config_name="train", overrides=list(overrides))


def feed(detector, observations: list[dict], start: int = 1) -> list[tuple[int, str]]:
    """(step, fired/cleared) of every event over consecutive steps."""
    events = [detector.update(step, obs) for step, obs in enumerate(observations, start=start)]
    return [(e.step, e.state) for e in events if e is not None]


WINNING = {"loss/D": 0.02, "prob/D_real": 0.99, "prob/D_fake": 0.01}
EVEN = {"loss/D": 1.2, "prob/D_real": 0.6, "prob/D_fake": 0.4}


def test_fires_once_after_patience_and_clears_after_as_many_fine_ones():
    d = DWins(patience=3, loss=0.1, margin=0.05, use_probs=True, flipped=False)
    assert feed(d, [WINNING] * 2 + [EVEN] + [WINNING] * 5 + [EVEN] * 2 + [WINNING] + [EVEN] * 3) == [
        (6, "fired"),
        (14, "cleared"),
    ]


def test_d_wins_needs_both_the_loss_and_the_outputs_and_follows_flipped_labels():
    d = DWins(patience=1, loss=0.1, margin=0.05, use_probs=True, flipped=False)
    assert feed(d, [{**WINNING, "prob/D_fake": 0.2}]) == []  # low loss alone is not enough
    flipped = DWins(patience=1, loss=0.1, margin=0.05, use_probs=True, flipped=True)
    assert feed(flipped, [WINNING]) == []
    assert feed(flipped, [{"loss/D": 0.02, "prob/D_real": 0.01, "prob/D_fake": 0.99}]) == [(1, "fired")]
    hinge = DWins(patience=1, loss=0.1, margin=0.05, use_probs=False, flipped=False)
    assert feed(hinge, [{"loss/D": 0.0, "prob/D_real": 0.8, "prob/D_fake": 0.3}]) == [(1, "fired")]


def test_g_starves_on_the_ratio_on_a_vanished_gradient_and_not_on_healthy_norms():
    g = GStarves(patience=1, ratio=0.01, min_norm=1e-3)
    assert feed(g, [{"grad_norm/G": [0.5, 0.9, 2.0]}]) == []
    assert feed(g, [{"grad_norm/G": [0.001, 0.3, 2.0]}]) == [(1, "fired")]
    zero = GStarves(patience=1, ratio=0.01, min_norm=1e-3)
    event = zero.update(5, {"grad_norm/G": [0.0, 0.0, 0.0]})
    assert event.state == "fired" and "0 < 0.001" in event.evidence


# experiment=frog_tips on the 5,000 frogs (5x5 kernels, 128 filters), every 4th log of 100: G's output layer's
# gradient norm grows from tens to hundreds while its bottom layer keeps ~2; the samples are good frogs.
FROG_TIPS_TOP = [37, 10, 14, 27, 19, 89, 155, 159, 292, 192, 318, 57, 154, 415, 18, 281, 216, 347, 85, 440, 95, 417,
                 81, 257, 14]  # fmt: skip
FROG_TIPS_BOTTOM = [2.7, 2.3, 2.2, 2.3, 1.8, 1.7, 1.6, 1.6, 1.7, 1.8, 1.8, 1.9, 2.2, 2.0, 2.0, 1.9, 1.9, 1.8, 2.5, 2.0,
                    2.1, 2.4, 2.1, 2.3, 1.6]  # fmt: skip


def test_a_growing_top_layer_is_neither_starvation_nor_explosion():
    logs = [{"grad_norm/G": [bottom, 1.0, float(top)]} for bottom, top in zip(FROG_TIPS_BOTTOM, FROG_TIPS_TOP)]
    assert feed(GStarves(patience=3, ratio=0.01, min_norm=1e-3), logs) == []
    assert feed(Exploding(patience=3, grad_norm=100), logs) == []
    shrinking = [{"grad_norm/G": [bottom * 1e-3, 1.0, 30.0]} for bottom in FROG_TIPS_BOTTOM]  # the bottom fades
    assert feed(GStarves(patience=3, ratio=0.01, min_norm=1e-4), logs[:6] + shrinking)[0] == (9, "fired")


def test_exploding_names_the_largest_layer():
    e = Exploding(patience=1, grad_norm=100)
    event = e.update(10, {"grad_norm/G": [3.0, 50.0], "grad_norm/D": [250.0, 4.0]})
    assert event.state == "fired" and "250 (D layer 00)" in event.evidence


# D's first-layer gradient norm every 15 steps of a healthy run (kernel 3, 16 filters, resize-conv G,
# 300 steps: FID mid-sweep, D(x) 0.78-0.88): it swings past 100 and back without the run going wrong.
HEALTHY_SWINGS = [5.9, 5.6, 5.8, 17.6, 14.3, 45.2, 203.3, 67.2, 71.8, 27.8, 140.7, 151.2, 339.0, 283.2, 13.3,
                  14.2, 49.2, 649.1, 243.2, 17.3]  # fmt: skip


def test_exploding_judges_a_norm_against_the_layers_own_range():
    healthy = Exploding(patience=3, grad_norm=100)
    assert feed(healthy, [{"grad_norm/D": [norm, 1.0]} for norm in HEALTHY_SWINGS]) == []
    blowing_up = Exploding(patience=3, grad_norm=100)
    norms = HEALTHY_SWINGS[:10] + [900.0, 3000.0, 8000.0]  # 10x-100x the layer's median (22.7) and growing
    assert feed(blowing_up, [{"grad_norm/D": [norm, 1.0]} for norm in norms]) == [(13, "fired")]
    from_the_start = Exploding(patience=3, grad_norm=100)  # its median over the limit: the limit alone judges
    assert feed(from_the_start, [{"grad_norm/G": [300.0, 2e5]}] * 12) == [(3, "fired")]


def test_sample_checks_wait_for_the_warmup():
    m = ModeCollapse(patience=1, warmup=200, limit=0.2)
    assert m.update(100, {DIVERSITY: 0.01}) is None
    assert m.update(200, {DIVERSITY: 0.01}).state == "fired"
    assert m.update(250, {DIVERSITY: 0.9}).state == "cleared"


def test_oscillation_ignores_drift_and_single_spikes_but_not_growing_swings():
    def run(values):
        return feed(
            Oscillation(patience=2, window=8, growth=2, min_swing=0.5, min_relative=0.3),
            [{"loss/D": v} for v in values],
        )

    assert run([1.0 + 0.5 * i for i in range(40)]) == []  # a steady climb
    assert run([1.0] * 20 + [9.0] + [1.0] * 19) == []  # one spike
    assert run([1.0 + 0.05 * (-1) ** i for i in range(40)]) == []  # steady small jitter
    growing = [2.0 + 0.05 * (-1) ** i for i in range(16)] + [2.0 + 1.5 * (-1) ** i for i in range(16)]
    (step, state), *_ = run(growing)
    assert state == "fired" and 17 < step <= 24  # within one window of the swings starting at step 17


def test_non_finite_fires_at_once_on_any_logged_value():
    n = NonFinite()
    assert feed(n, [{"loss/D": 1.0, "grad_norm/G": [1.0]}, {"loss/D": 1.0, "grad_norm/G": [math.nan]}]) == [
        (2, "fired")
    ]


def test_config_turns_checks_off_and_picks_d_wins_per_loss():
    names = lambda cfg: {d.name for d in build_detectors(cfg.doctor, cfg.loss.name, False)}  # noqa: E731
    assert names(compose_cfg()) == {
        "non_finite",
        "d_wins",
        "g_starves",
        "exploding",
        "oscillation",
        "mode_collapse",
        "checkerboard",
    }
    assert "d_wins" not in names(compose_cfg("loss=wgan_gp")) and "d_wins" not in names(compose_cfg("loss=lsgan"))
    assert "d_wins" in names(compose_cfg("loss=hinge"))
    off = compose_cfg("doctor.checkerboard.score=null", "doctor.oscillation.growth=null")
    assert {"checkerboard", "oscillation"}.isdisjoint(names(off))


def event(check, state, step, evidence="e", advice="a"):
    return {"check": check, "state": state, "step": step, "evidence": evidence, "advice": advice}


def test_verdicts_failed_warning_ok_and_off():
    diag = {
        "checks": {"non_finite": "", "d_wins": "", "g_starves": "", "exploding": ""},
        "static": [{"check": "kernel_stride", "net": "G", "message": "3 transposed convs ..."}],
        "events": [event("d_wins", "fired", 100), event("exploding", "fired", 50), event("exploding", "cleared", 80),
                   event("exploding", "fired", 120), event("exploding", "cleared", 150)],
    }  # fmt: skip
    static, live = verdicts(diag)
    by = {v.check: v for v in static + live}
    assert by["kernel_stride"].status == "warning" and by["double_sigmoid"].status == "ok"
    assert (by["d_wins"].status, by["d_wins"].step) == ("failed", 100) and "since step 100" in by["d_wins"].detail
    assert by["exploding"].status == "warning" and "steps 50-80, 120-150" in by["exploding"].detail
    assert by["g_starves"].status == "ok" and by["checkerboard"].status == "off"
    line = job_line("3_lr=0.1", diag)
    assert line.startswith("3_lr=0.1  failed") and "D wins @100" in line and "exploding gradients @50" in line


@pytest.mark.parametrize(
    "override, message",
    [
        ("doctor.patience=0", "doctor.patience=0 must be an integer >= 1"),
        ("doctor.d_wins.margin=0.7", "doctor.d_wins.margin=0.7 must be a number in [0, 0.5]"),
        ("doctor.mode_collapse.fraction=2", "doctor.mode_collapse.fraction=2 must be null or a number in [0, 1]"),
        ("doctor.exploding.grad_norm=-5", "doctor.exploding.grad_norm=-5 must be null or a number > 0"),
        ("doctor.stop_on_collapse=maybe", "doctor.stop_on_collapse=maybe must be true or false"),
        ("doctor.oscillation.window=1", "doctor.oscillation.window=1 must be an integer >= 2"),
    ],
)
def test_bad_doctor_values_get_one_line(override, message):
    with pytest.raises(UserError) as error:
        validate_config(compose_cfg(override))
    assert str(error.value) == message


def test_null_thresholds_are_valid():
    validate_config(
        compose_cfg(
            "doctor.d_wins.loss=null", "doctor.g_starves.min_norm=null", f"{CHECKERBOARD.replace('/', '.')}.score=null"
        )
    )


def _scores(detector, values, step=250):
    """Feed one sample score per grid; returns [(step, state)] of the events."""
    events = []
    for i, value in enumerate(values):
        event = detector.update(step * (i + 1), {CHECKERBOARD: value})
        if event is not None:
            events.append((event.step, event.state))
    return events


def test_checkerboard_judges_early_noise_by_its_trend_not_the_limit_alone():
    """The default run's real grids (10.4, 18.1, 1.9, 1.3 x real) stay quiet; a stuck or extreme pattern fires."""
    quiet = Checkerboard(patience=1, warmup=0, limit=10, trend=2)
    assert _scores(quiet, [10.4, 18.1, 1.9, 1.3, 1.1]) == []
    stuck = Checkerboard(patience=1, warmup=0, limit=10, trend=2)
    assert _scores(stuck, [30.0, 16.0, 15.5, 15.8]) == [(750, "fired")]  # no better than the 2 grids before it
    extreme = Checkerboard(patience=1, warmup=0, limit=10, trend=2)
    assert _scores(extreme, [201.5, 182.0]) == [(250, "fired")]  # over 3x the limit: judged at once
    frog = Checkerboard(patience=1, warmup=0, limit=10, trend=2)  # dcgan_frog on the frogs, steps 250-1000
    assert _scores(frog, [11.5, 22.2, 8.4, 3.7]) == []
    gray128 = Checkerboard(patience=1, warmup=0, limit=10, trend=2)  # gray128_transpose at 128 px, steps 250, 500
    assert _scores(gray128, [36.2, 2.85]) == [(250, "fired"), (500, "cleared")]
    limit_alone = Checkerboard(patience=1, warmup=0, limit=10, trend=0)
    assert _scores(limit_alone, [10.4, 18.1, 1.9]) == [(250, "fired"), (750, "cleared")]


def test_a_final_grid_just_after_a_regular_one_is_not_judged():
    """dcgan_frog stopped by trainer.time_limit at step 501: its final grid repeats step 500's and fired
    "no better than the previous 2 grids" (Nyquist power 11x real); a repeat is not judged."""
    checker = Checkerboard(patience=1, warmup=0, limit=10, trend=2)
    grids = [(250, 14.0), (500, 11.2), (501, 11.0)]
    assert [checker.update(step, {CHECKERBOARD: value}) for step, value in grids] == [None, None, None]
    assert checker.update(750, {CHECKERBOARD: 11.5}).state == "fired"  # a real grid later still counts


def test_checkerboard_advice_reads_how_g_upsamples():
    def G(*layers):
        return nn.Sequential(*layers)

    uneven = checkerboard_advice(G(nn.ConvTranspose2d(8, 8, 3, stride=2)))
    assert "kernel 3, stride 2" in uneven and "not divisible" in uneven
    even = checkerboard_advice(G(nn.ConvTranspose2d(8, 8, 4, stride=2)))
    assert "overlap evenly" in even and "not divisible" not in even
    resize = checkerboard_advice(G(nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(8, 8, 3, padding=1)))
    assert "resize-convolution" in resize and "D rewards it" in resize
