"""D overfits: D scores its training images far above real images it has never seen.

Two signals, both from values the loop already has at a logging step:
- with a held-out split (`dataset.holdout=N`), the gap E[sign D(x_train)] - E[sign D(x_heldout)]
  on fixed batches of training and held-out images (HoldoutProbe; Karras et al. 2020, fig. 1);
- without one, ADA's r_t = E[sign(D(x_real))] over the logging interval (logged as augment/r_t; relative,
  E[sign(D(x_real) - D(G(z)))], for loss=rpgan and wgan_gp: training/losses.py).
"""

from __future__ import annotations

import torch
import torch.nn as nn
from omegaconf import DictConfig

from gan_lab.data.transforms import to_unit_range
from gan_lab.doctor.detectors import Detector, _finite

HOLDOUT_GAP, R_T = "doctor/holdout_gap", "augment/r_t"


class HoldoutProbe:
    """D's outputs on up to `count` held-out images and as many training images, at logging steps.

    D runs as in training (train mode) but leaves no trace: its buffers (BatchNorm statistics, spectral
    norm vectors) and the RNG are restored, so training continues exactly as without the probe.
    """

    def __init__(self, source, device: torch.device, memory_format=torch.contiguous_format, count: int = 64):
        holdout = getattr(source, "holdout", None)  # set by data.build_image_source for dataset.holdout > 0
        self.batches = None
        if holdout is not None:
            n = min(count, len(holdout), len(source))
            self.batches = [to_unit_range(images[:n].to(device)).contiguous(memory_format=memory_format)
                            for images in (source.preview(n), holdout)]  # fmt: skip

    @torch.no_grad()
    def measure(self, D: nn.Module, autocast) -> dict[str, float]:
        """{"doctor/holdout_gap": E[sign D(train)] - E[sign D(held out)]}, or {} without a held-out split."""
        if self.batches is None:
            return {}
        saved = [b.clone() for b in D.buffers()]
        devices = [self.batches[0].device] if self.batches[0].device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices), autocast():
            train, held = (torch.sign(D(images).float()).mean() for images in self.batches)
        for buffer, value in zip(D.buffers(), saved):
            buffer.copy_(value)
        return {HOLDOUT_GAP: float(train - held)}


class DOverfits(Detector):
    name, title = "d_overfits", "D overfits"
    advice = (
        "D is far surer of its training images than of real images it has not seen: it memorises the training "
        "set, and G learns to copy its quirks or stalls. Augment what D sees (augment=ada, or augment=diffaug), "
        "regularise D (reg=r1, reg.gamma), use more data, or a smaller D (model.filters)."
    )

    def __init__(self, patience: int, gap: float | None, r_t: float | None):
        super().__init__(patience)
        self.gap, self.r_t = gap, r_t

    def test(self, obs):
        gap, r_t = obs.get(HOLDOUT_GAP), obs.get(R_T)
        if self.gap is not None and _finite(gap):
            return gap > self.gap, f"E[sign D(x)] on training images exceeds held-out images' by {gap:.2f}"
        if self.r_t is not None and _finite(r_t):
            return r_t > self.r_t, f"ADA's r_t (how surely D calls real images real) = {r_t:.2f}"
        return None


def overfitting_detectors(d: DictConfig) -> list[Detector]:
    """[DOverfits] unless both of doctor.d_overfits' thresholds are null (or the section is absent)."""
    o = d.get("d_overfits")
    if o is None or (o.gap is None and o.r_t is None):
        return []
    return [DOverfits(d.patience, o.gap, o.r_t)]
