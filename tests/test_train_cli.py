"""A real `gan-lab train` in a subprocess: event files, samples, checkpoint, summary, sweeps."""

from __future__ import annotations

import json
from pathlib import Path

import torch
from conftest import TINY, run_cli
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

SCALARS = ["loss/D", "loss/G", "prob/D_real", "prob/D_fake", "lr/G", "lr/D", "perf/img_per_s"]


def read_events(run_dir: Path) -> EventAccumulator:
    acc = EventAccumulator(str(run_dir), size_guidance={"scalars": 0, "images": 0, "tensors": 0})
    acc.Reload()
    return acc


def test_event_files_hold_every_tag(tiny_run):
    acc = read_events(tiny_run)
    tags = acc.Tags()
    for tag in SCALARS:
        assert tag in tags["scalars"], tag
        assert [e.step for e in acc.Scalars(tag)] == [2, 4]
    g_norms = sorted(t for t in tags["scalars"] if t.startswith("grad_norm/G/"))
    d_norms = sorted(t for t in tags["scalars"] if t.startswith("grad_norm/D/"))
    # 16 px, 2 stages: project, project_norm, up1, up1_norm, to_image | from_image, down2, down2_norm, to_logit
    assert g_norms[0] == "grad_norm/G/00_project" and g_norms[-1] == "grad_norm/G/04_to_image"
    assert d_norms[0] == "grad_norm/D/00_from_image" and d_norms[-1] == "grad_norm/D/03_to_logit"
    assert all(e.value > 0 for t in g_norms + d_norms for e in acc.Scalars(t))
    assert "samples/fixed" in tags["images"] and "real" in tags["images"]
    assert [e.step for e in acc.Images("samples/fixed")] == [2, 4]
    assert "config/text_summary" in tags["tensors"]
    assert "custom_scalars__config__" in tags["tensors"]
    prob = acc.Scalars("prob/D_real")[-1].value
    assert 0 < prob < 1


def test_run_dir_contents(tiny_run):
    assert (tiny_run / ".hydra" / "config.yaml").is_file()
    assert (tiny_run / "samples" / "step_000004.png").is_file()
    summary = json.loads((tiny_run / "summary.json").read_text())
    assert summary["steps"] == 4 and summary["img_per_s"] > 0
    assert set(summary["final"]) == {"loss_D", "loss_G", "prob_D_real", "prob_D_fake", "augment_r_t"}
    checkpoint = torch.load(tiny_run / summary["checkpoint"], weights_only=True)
    assert checkpoint["step"] == 4 and checkpoint["config"]["model"]["filters"] == 8
    assert {"G", "D", "opt_G", "opt_D"} <= set(checkpoint)


def test_console_reports_progress_and_the_tensorboard_command(tmp_path):
    result = run_cli("train", *TINY, f"hydra.run.dir={tmp_path / 'run'}", subprocess_=True)
    assert result.returncode == 0, result.stderr
    assert "step 4/4 | loss D" in result.stdout and "img/s" in result.stdout
    assert f"tensorboard --logdir {tmp_path / 'run'}" in result.stdout


def test_multirun_makes_a_job_dir_per_combination(tmp_path):
    tiny = [o for o in TINY if not o.startswith("model.filters")]
    result = run_cli("train", "-m", "model.kernel_size=3,4", "model.filters=4,8", *tiny, cwd=tmp_path, subprocess_=True)
    assert result.returncode == 0, result.stdout + result.stderr
    sweeps = list((tmp_path / "outputs" / "multirun").glob("*/*"))
    assert len(sweeps) == 1
    jobs = sorted(p.name for p in sweeps[0].iterdir() if p.is_dir() and not p.name.startswith("."))
    assert len(jobs) == 4
    for number, (filters, kernel) in enumerate([(4, 3), (8, 3), (4, 4), (8, 4)]):
        # named by the swept overrides only, short keys, in command-line order
        job = f"{number}_kernel_size={kernel},filters={filters}"
        assert job in jobs
        assert list((sweeps[0] / job).glob("events.out.tfevents.*"))


def test_single_run_goes_under_outputs_train(tmp_path):
    result = run_cli("train", *TINY, cwd=tmp_path, subprocess_=True)
    assert result.returncode == 0, result.stderr
    runs = list((tmp_path / "outputs" / "train").glob("*/*"))
    assert len(runs) == 1 and (runs[0] / "summary.json").is_file()
