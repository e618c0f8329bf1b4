"""The doctor inside a run: diagnoses.json across a resume."""

from __future__ import annotations

import json

import torch
from hydra import compose, initialize_config_dir

from gan_lab.config.packaged import config_dir
from gan_lab.doctor.monitor import Doctor
from gan_lab.runs.tensorboard import RunWriter

WINNING = {"loss/D": 0.01, "loss/G": 6.0, "prob/D_real": 0.99, "prob/D_fake": 0.01}
NORMS = {"G": [1.0, 2.0], "D": [1.0, 1.0]}


def test_resume_keeps_the_events_up_to_its_step_and_does_not_fire_them_again(tmp_path):
    with initialize_config_dir(config_dir=str(config_dir()), version_base="1.3"):
        cfg = compose(config_name="train", overrides=["doctor.patience=1"])
    real = torch.rand(8, 3, 16, 16) * 2 - 1
    first = Doctor(cfg, tmp_path)
    first.start(RunWriter(tmp_path), real)
    for step in (10, 20, 30):
        first.observe(step, WINNING, NORMS)
    first.observe(40, {**WINNING, "loss/D": float("nan")}, NORMS)  # logged after the step-30 checkpoint
    assert [(e.check, e.step) for e in first.events] == [("d_wins", 10), ("non_finite", 40)]

    resumed = Doctor(cfg, tmp_path)
    resumed.start(RunWriter(tmp_path), real, step=30)  # the killed run's events after 30 are dropped
    resumed.observe(40, WINNING, NORMS)  # D still wins: no second "fired"
    resumed.save()  # as the trainer does at the end
    saved = json.loads((tmp_path / "diagnoses.json").read_text())
    assert [(e["check"], e["state"], e["step"]) for e in saved["events"]] == [("d_wins", "fired", 10)]
    assert saved["active"] == ["d_wins"] and saved["last_step"] == 40
