"""Metrics during training (trainer.eval_every): eval/* in TensorBoard, checkpoints/best.pt by metrics.best."""

from __future__ import annotations

import json

import pytest
import torch
from afterhelpers import FEATURES, command
from conftest import train_tiny
from hydra import compose, initialize_config_dir

from gan_lab.config.packaged import config_dir
from gan_lab.config.validate import validate_config
from gan_lab.errors import UserError
from gan_lab.runs.layout import checkpoints, read_scalars


def composed(*overrides: str):
    with initialize_config_dir(config_dir=str(config_dir()), version_base="1.3"):
        return compose(config_name="train", overrides=list(overrides))


def test_metrics_during_training_log_eval_scalars_and_keep_the_best_checkpoint(tmp_path, capsys):
    run = tmp_path / "run"
    train_tiny(
        run, "trainer.eval_every=2", "trainer.steps=6", "trainer.checkpoint_every=0", FEATURES,
        "metrics.num_samples=48", "metrics.num_real=64", "metrics.best=kid",
    )  # fmt: skip
    scalars = read_scalars(run)
    kid = dict(scalars["eval/kid"])
    assert sorted(kid) == [2, 4, 6] and sorted(dict(scalars["eval/fid"])) == [2, 4, 6]
    assert {"eval/checkerboard", "eval/diversity", "eval/kid_std"} <= set(scalars)
    best_step = min(kid, key=kid.get)
    record = json.loads((run / "checkpoints" / "best.json").read_text())
    assert record["metric"] == "kid" and record["step"] == best_step
    assert record["value"] == pytest.approx(kid[best_step], rel=1e-5)
    best = torch.load(run / "checkpoints" / "best.pt", weights_only=True)
    assert best["step"] == best_step and {"G", "D", "config"} <= set(best)
    assert [p.name for p in checkpoints(run)] == ["step_000006.pt"]  # best.pt is not a step checkpoint
    assert "eval at step 2: fid" in (run / "train.log").read_text()
    # the commands after training read best.pt like any checkpoint
    assert command("generate", str(run), "n=4", "checkpoint=best", f"out={tmp_path / 'best.npz'}") == 0
    assert f"(step {best_step}, G)" in capsys.readouterr().out


def test_metrics_are_off_by_default(tiny_run):
    assert not (tiny_run / "checkpoints" / "best.pt").exists()
    assert not any(tag.startswith("eval/") for tag in read_scalars(tiny_run))


def test_bad_metrics_settings_are_refused_before_training():
    cases = {
        ("trainer.eval_every=-1",): "trainer.eval_every=-1",
        ("metrics.num_samples=1",): "metrics.num_samples=1 must be an integer >= 2",
        ("metrics.best=is",): "metrics.best=is is not allowed; choose one of fid, kid",
        ("metrics.features=inceptoin",): "metrics.features=inceptoin must be inception or the python path",
    }
    for overrides, expected in cases.items():
        with pytest.raises(UserError, match=expected.replace(".", r"\.").replace("(", r"\(")):
            validate_config(composed(*overrides))
    validate_config(composed("trainer.eval_every=500", FEATURES))
