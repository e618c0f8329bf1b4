"""The lesson of the MLP pair stays true: on small 28 px grayscale data, mlp_mnist_fixed beats mlp_mnist_broken on
the offline metrics, and the doctor names the broken preset's four bugs and none in the fixed one.

Both train on procedural shapes (no download) with each preset's own model, loss and optimiser; only the
length and the data are shrunk. The README's preset table holds the full-length runs on the MNIST digits."""

from __future__ import annotations

import json

import pytest
from afterhelpers import FEATURES, command
from conftest import run_cli

DATA = ["dataset=shapes", "dataset.image_size=28", "dataset.channels=1", "dataset.num_images=1024"]
SHORT = ["trainer.steps=300", "trainer.batch_size=64", "trainer.log_every=50", "trainer.sample_every=300",
         "trainer.num_samples=16", "trainer.device=cpu"]  # fmt: skip
FOUR_BUGS = {"output_range", "double_sigmoid", "linear_stack", "init_scale"}


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    """preset name -> (run dir, metrics.json, diagnoses.json) after a short run and an offline evaluation."""
    out = {}
    for preset in ("mlp_mnist_broken", "mlp_mnist_fixed"):
        run = tmp_path_factory.mktemp(preset)
        result = run_cli("train", f"experiment={preset}", *DATA, *SHORT, f"hydra.run.dir={run}")
        assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
        assert command("evaluate", str(run), FEATURES, "n=512", "metrics.num_real=512",
                       "metrics.diversity_samples=256") == 0  # fmt: skip
        out[preset] = (
            run,
            json.loads((run / "metrics.json").read_text()),
            json.loads((run / "diagnoses.json").read_text()),
        )
    return out


def test_fixed_mlp_scores_far_better_than_broken(pair):
    broken, fixed = pair["mlp_mnist_broken"][1], pair["mlp_mnist_fixed"][1]
    # FID only: the broken G's noise is as "diverse" as anything, so diversity does not separate the two
    assert fixed["fid"] < broken["fid"] / 2, (fixed["fid"], broken["fid"])


def test_doctor_names_the_four_bugs_of_the_broken_mlp_and_none_of_the_fixed(pair):
    broken, fixed = pair["mlp_mnist_broken"][2], pair["mlp_mnist_fixed"][2]
    assert {finding["check"] for finding in broken["static"]} == FOUR_BUGS
    assert fixed["static"] == []
