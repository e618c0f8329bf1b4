"""The lessons of the preset pairs stay true on small data: mlp_mnist_fixed beats mlp_mnist_broken on the offline
metrics and the doctor names the broken preset's four bugs and none in the fixed one; gray128_transpose prints
a checkerboard that gray128_resize does not, and the doctor says so before and during training.

Each trains on procedural shapes (no download) with the preset's own model, loss and optimiser; only the
length, the size and the data are shrunk. The README's preset table holds the full-length runs on real data."""

from __future__ import annotations

import json

import pytest
from afterhelpers import FEATURES, command
from conftest import run_cli

DATA = ["dataset=shapes", "dataset.image_size=28", "dataset.channels=1", "dataset.num_images=1024"]
SHORT = ["trainer.steps=300", "trainer.batch_size=64", "trainer.log_every=50", "trainer.sample_every=300",
         "trainer.num_samples=16", "trainer.device=cpu"]  # fmt: skip
FOUR_BUGS = {"output_range", "double_sigmoid", "linear_stack", "init_scale"}


def train_and_score(preset: str, run, *overrides: str, n: int) -> tuple[dict, dict]:
    """A short run of the preset into run, then an offline evaluation of n samples: (metrics, diagnoses)."""
    result = run_cli("train", f"experiment={preset}", *overrides, f"hydra.run.dir={run}")
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert command("evaluate", str(run), FEATURES, f"n={n}", f"metrics.num_real={n}",
                   f"metrics.diversity_samples={n // 2}") == 0  # fmt: skip
    return json.loads((run / "metrics.json").read_text()), json.loads((run / "diagnoses.json").read_text())


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    """preset name -> (run dir, metrics.json, diagnoses.json) after a short run and an offline evaluation."""
    out = {}
    for preset in ("mlp_mnist_broken", "mlp_mnist_fixed"):
        run = tmp_path_factory.mktemp(preset)
        out[preset] = (run, *train_and_score(preset, run, *DATA, *SHORT, n=512))
    return out


def test_fixed_mlp_scores_far_better_than_broken(pair):
    broken, fixed = pair["mlp_mnist_broken"][1], pair["mlp_mnist_fixed"][1]
    # FID only: the broken G's noise is as "diverse" as anything, so diversity does not separate the two
    assert fixed["fid"] < broken["fid"] / 2, (fixed["fid"], broken["fid"])


def test_doctor_names_the_four_bugs_of_the_broken_mlp_and_none_of_the_fixed(pair):
    broken, fixed = pair["mlp_mnist_broken"][2], pair["mlp_mnist_fixed"][2]
    assert {finding["check"] for finding in broken["static"]} == FOUR_BUGS
    assert fixed["static"] == []


# The gray128 pair at 32 px: the same layout (dense layers, a small start map, three 3x3 stride-2 upsamplings)
# at a quarter of the size and width.
GRAY_SMALL = ["dataset.image_size=32", "dataset.num_images=512", "model.start_size=4", "model.filters=8",
              "model.g_dense=[64]", "model.d_dense=[64]", "trainer.steps=200", "trainer.batch_size=32",
              "trainer.log_every=50", "trainer.sample_every=100", "trainer.num_samples=16", "trainer.device=cpu"]  # fmt: skip


def test_transposed_gray128_prints_a_checkerboard_the_resize_version_does_not(tmp_path):
    transpose, transpose_doctor = train_and_score("gray128_transpose", tmp_path / "t", *GRAY_SMALL, n=256)
    resize, resize_doctor = train_and_score("gray128_resize", tmp_path / "r", *GRAY_SMALL, n=256)
    # measured: 165x the real images' Nyquist power after 100 steps (233x at step 200, the doctor's), resize about 3x
    assert transpose["checkerboard"] > 10 * resize["checkerboard"], (transpose["checkerboard"], resize["checkerboard"])
    assert [f["check"] for f in transpose_doctor["static"]] == ["kernel_stride"] and resize_doctor["static"] == []
    assert [e["check"] for e in transpose_doctor["events"]] == ["checkerboard"] and resize_doctor["events"] == []
