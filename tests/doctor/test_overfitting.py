"""The "D overfits" check: the held-out gap measured without disturbing training, and the detector on it or on r_t."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
import torch.nn as nn
from conftest import run_cli
from omegaconf import OmegaConf
from PIL import Image

from gan_lab.doctor.overfitting import HOLDOUT_GAP, R_T, DOverfits, HoldoutProbe, overfitting_detectors


class Source:
    """An image source with a held-out split, as data.build_image_source makes for dataset.holdout > 0."""

    def __init__(self, train: torch.Tensor, holdout: torch.Tensor):
        self.train, self.holdout = train, holdout

    def __len__(self) -> int:
        return len(self.train)

    def preview(self, n: int) -> torch.Tensor:
        return self.train[:n]


class Memoriser(nn.Module):
    """A D that says "real" (+1) to the images it was shown and "fake" (-1) to anything else."""

    def __init__(self, known: torch.Tensor):
        super().__init__()
        self.norm = nn.BatchNorm2d(1)  # running statistics: the probe must leave them as they were
        self.known = known.float().flatten(1) / 127.5 - 1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.norm(x)
        seen = (torch.cdist(x.flatten(1), self.known) < 1e-3).any(dim=1)
        return torch.where(seen, 1.0, -1.0)


def test_holdout_probe_measures_the_gap_and_leaves_d_as_it_was():
    g = torch.Generator().manual_seed(0)
    train, holdout = (torch.randint(0, 256, (16, 1, 8, 8), dtype=torch.uint8, generator=g) for _ in range(2))
    D = Memoriser(train)
    before = [b.clone() for b in D.buffers()]
    probe = HoldoutProbe(Source(train, holdout), torch.device("cpu"), count=8)
    gap = probe.measure(D, lambda: torch.autocast("cpu", enabled=False))[HOLDOUT_GAP]
    assert gap == 2.0  # every training image "real", every held-out one "fake"
    assert all(torch.equal(a, b) for a, b in zip(before, D.buffers()))
    assert HoldoutProbe(object(), torch.device("cpu")).measure(D, None) == {}  # no held-out split: nothing


def _events(detector, observations):
    found = [detector.update(step, obs) for step, obs in enumerate(observations, start=1)]
    return [(e.step, e.state) for e in found if e is not None]


def test_d_overfits_fires_on_the_held_out_gap_and_clears():
    d = DOverfits(patience=3, gap=0.5, r_t=None)
    gaps = [0.1, 0.3, 0.8, 0.9, 1.2, 1.1, 0.2, 0.1, 0.0]
    assert _events(d, [{HOLDOUT_GAP: g} for g in gaps]) == [(5, "fired"), (9, "cleared")]


def test_d_overfits_uses_r_t_only_without_a_held_out_split():
    d = DOverfits(patience=1, gap=0.5, r_t=0.8)
    assert _events(d, [{R_T: 0.9}]) == [(1, "fired")]
    with_gap = DOverfits(patience=1, gap=0.5, r_t=0.8)
    assert _events(with_gap, [{R_T: 0.95, HOLDOUT_GAP: 0.1}]) == []  # the gap, when there is one, decides


def test_both_thresholds_null_turn_the_check_off():
    off = OmegaConf.create({"patience": 3, "d_overfits": {"gap": None, "r_t": None}})
    on = OmegaConf.create({"patience": 3, "d_overfits": {"gap": 0.5, "r_t": None}})
    assert overfitting_detectors(off) == [] and len(overfitting_detectors(on)) == 1


@pytest.mark.parametrize("training_images, fires", [(200, True), (3000, False)])
def test_d_overfits_fires_in_a_real_run_on_a_few_hundred_images(tmp_path, training_images, fires):
    """Random-noise images, 100 held out: once G makes noise like them, D can tell its training images from G's
    only by memorising them, and held-out images then look fake to it. 200 training images are memorised
    within 400 steps (measured: fired at step 220-320 at seeds 0-3); 3,000, each seen about 4 times, are
    not (nothing fired at seeds 0-3).
    """
    rng = np.random.default_rng(0)
    for i in range(training_images + 100):
        Image.fromarray(rng.integers(0, 256, (16, 16), dtype=np.uint8)).save(tmp_path / f"{i:04d}.png")
    run_dir = tmp_path / "run"
    result = run_cli(
        "train", "dataset=image_folder", f"dataset.path={tmp_path}", "dataset.image_size=16", "dataset.channels=1",
        "dataset.holdout=100", "model=mlp", "trainer.steps=400", "trainer.batch_size=32", "trainer.log_every=10",
        "trainer.sample_every=100", "trainer.checkpoint_every=0", "trainer.device=cpu", "trainer.precision=fp32",
        "metrics.sweep_samples=0", f"hydra.run.dir={run_dir}", env={"OMP_NUM_THREADS": "1"},
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    events = json.loads((run_dir / "diagnoses.json").read_text())["events"]
    fired = [e for e in events if e["check"] == "d_overfits" and e["state"] == "fired"]
    assert bool(fired) == fires, events
    assert not [e for e in events if e["check"] != "d_overfits"], events  # memorising is the only failure here
    if fires:
        assert "training images exceeds held-out images'" in fired[0]["evidence"]
        assert "augment=ada" in fired[0]["advice"]
