"""The doctor on real training runs: each detector fires on a setup built to trigger it, none on a healthy one.

One multirun trains every case in a single process (tiny models, tens of steps); the thresholds are
the shipped defaults, only the sample checks' warm-up is shortened to fit such short runs (they judge a
grid once doctor.sample_trend earlier grids show it stopped improving: the sample cases run 40-50 steps).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from conftest import run_cli
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from gan_lab.doctor.detectors import DETECTORS
from gan_lab.doctor.report import replay
from gan_lab.runs.layout import load_run_config, read_scalars

COMMON = [
    "dataset.num_images=256", "dataset.image_size=16", "model.filters=8", "model.latent_dim=16",
    "trainer.batch_size=16", "trainer.log_every=2", "trainer.sample_every=10", "trainer.num_samples=32",
    "trainer.device=cpu", "trainer.checkpoint_every=0", "trainer.precision=fp32", "trainer.channels_last=false",
    "metrics.sweep_samples=0",  # the doctor's cases need no quality evaluation
]  # fmt: skip
ONE_THREAD = {"OMP_NUM_THREADS": "1"}  # tiny models: threads only fight over the 2 cores

# case -> the YAML that sets it up (a `# @package _global_` preset, picked with +case=<name>)
CASES = {
    # a far too strong D: G barely learns
    "d_wins": "optim: {lr_G: 1.0e-6, lr_D: 2.0e-3}\ntrainer: {steps: 30}",
    # sigmoids between G's layers and no norm: the gradient vanishes on its way to G's bottom layer
    "g_starves": "model: {g_activation: sigmoid, norm_G: none}\ntrainer: {steps: 16}",
    # N(0, 1) weights without normalisation: activations and gradients blow up
    "exploding": "model: {init: normal_1, norm_G: none, norm_D: none}\ntrainer: {steps: 16}",
    # SGD with heavy momentum: the players overshoot each other in growing swings
    "oscillation": "defaults:\n  - override /optim: sgd\n"
    "optim: {lr_G: 0.01, lr_D: 0.01, momentum: 0.99}\ntrainer: {steps: 100}",
    # least squares with a huge momentum SGD: inf/nan within a dozen steps (the run then stops)
    "non_finite": "defaults:\n  - override /optim: sgd\n  - override /loss: lsgan\n"
    "optim: {lr_G: 0.05, lr_D: 0.05, momentum: 0.95}\ntrainer: {steps: 30}",
    # 3x3 stride-2 transposed convs
    "checkerboard": "model: {kernel_size: 3}\ntrainer: {steps: 40}\ndoctor: {sample_warmup: 10}",
    # a strong G against a nearly frozen D: every z gives nearly the same image (diversity far below the limit)
    "mode_collapse": "dataset: {image_size: 32}\noptim: {lr_G: 5.0e-3, lr_D: 2.0e-5}\ntrainer: {steps: 40}\n"
    "doctor: {sample_warmup: 10}",
    # the recipe with resize-convolution: nothing may fire
    "healthy": "model: {upsample: nearest}\ntrainer: {steps: 80}\ndoctor: {sample_warmup: 60}",
}


@pytest.fixture(scope="module")
def sweep(tmp_path_factory) -> Path:
    """Every case trained once by one `gan-lab train -m` (one process); returns the sweep directory."""
    root = tmp_path_factory.mktemp("doctor")
    for name, body in CASES.items():
        (root / "cases" / "case").mkdir(parents=True, exist_ok=True)
        (root / "cases" / "case" / f"{name}.yaml").write_text("# @package _global_\n" + body + "\n")
    sweep_dir = root / "sweep"
    result = run_cli(
        "train", "-m", f"hydra.searchpath=[file://{root / 'cases'}]", f"+case={','.join(CASES)}", *COMMON,
        f"hydra.sweep.dir={sweep_dir}", env=ONE_THREAD, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return sweep_dir


def job(sweep: Path, case: str) -> Path:
    return next(p for p in sweep.iterdir() if p.is_dir() and p.name.endswith(f"case={case}"))


def diagnoses(run_dir: Path) -> dict:
    return json.loads((run_dir / "diagnoses.json").read_text())


def fired(run_dir: Path) -> dict[str, int]:
    """check -> the step it first fired at."""
    found = {}
    for event in diagnoses(run_dir)["events"]:
        if event["state"] == "fired":
            found.setdefault(event["check"], event["step"])
    return found


@pytest.mark.slow
@pytest.mark.parametrize("case", [c for c in CASES if c != "healthy"])
def test_each_detector_fires_on_the_setup_that_breaks_it(sweep, case):
    run = job(sweep, case)
    assert case in fired(run), f"{case} did not fire; events: {diagnoses(run)['events']}"
    event = next(e for e in diagnoses(run)["events"] if e["check"] == case)
    assert event["evidence"] and event["advice"]
    # the same event reached TensorBoard as text
    acc = EventAccumulator(str(run), size_guidance={"tensors": 0})
    acc.Reload()
    assert f"doctor/{case}/text_summary" in acc.Tags()["tensors"]


@pytest.mark.slow
def test_healthy_run_triggers_nothing(sweep):
    run = job(sweep, "healthy")
    diag = diagnoses(run)
    assert set(diag["checks"]) == {d.name for d in DETECTORS} | {"d_overfits"}  # every detector ran...
    assert diag["events"] == [] and diag["static"] == []  # ...and none fired
    scalars = read_scalars(run)
    # the sample checks did judge grids after the warm-up
    assert [s for s, _ in scalars["doctor/diversity"] if s >= 60] == [60, 70, 80]


@pytest.mark.slow
def test_non_finite_run_is_reported_before_it_stops(sweep):
    run = job(sweep, "non_finite")
    assert json.loads((run / "summary.json").read_text())["status"] == "diverged"
    assert "loss/D" in next(e for e in diagnoses(run)["events"] if e["check"] == "non_finite")["evidence"]


@pytest.mark.slow
def test_replaying_the_event_files_gives_the_live_events(sweep):
    """The detectors see exactly what TensorBoard holds (non_finite stops before its last scalars land)."""
    for case in CASES:
        if case == "non_finite":
            continue
        run = job(sweep, case)
        live = [(e["check"], e["state"], e["step"]) for e in diagnoses(run)["events"]]
        replayed = [
            (e["check"], e["state"], e["step"]) for e in replay(read_scalars(run), load_run_config(run))["events"]
        ]
        assert replayed == live, case


@pytest.mark.slow
def test_doctor_command_on_a_sweep_prints_one_line_per_job_and_a_picture(sweep):
    result = run_cli("doctor", str(sweep), env=ONE_THREAD)
    assert result.returncode == 0, result.stderr
    lines = {line.split()[0]: line for line in result.stdout.splitlines() if line[:1].isdigit()}
    assert len(lines) == len(CASES)
    assert lines[job(sweep, "healthy").name].split()[1] == "healthy"
    assert (
        "failed" in lines[job(sweep, "exploding").name]
        and "exploding gradients @" in lines[job(sweep, "exploding").name]
    )
    assert "checkerboard artifacts" in lines[job(sweep, "checkerboard").name]
    assert (sweep / "doctor.png").stat().st_size > 10_000


@pytest.mark.slow
def test_stop_on_collapse_stops_with_a_checkpoint_and_the_report_names_it(tmp_path):
    run_dir = tmp_path / "run"
    result = run_cli(
        "train", *COMMON, "optim.lr_G=1e-6", "optim.lr_D=2e-3", "trainer.steps=200",
        "doctor.stop_on_collapse=true", f"hydra.run.dir={run_dir}", env=ONE_THREAD,
    )  # fmt: skip
    assert result.returncode == 4, result.stdout[-2000:] + result.stderr[-2000:]
    last_line = result.stderr.strip().splitlines()[-1]
    assert "the doctor stopped the run at step" in last_line and "D wins since step" in last_line
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "stopped_by_doctor" and summary["steps"] < 200
    assert (run_dir / summary["checkpoint"]).is_file()

    report = run_cli("doctor", str(run_dir), env=ONE_THREAD)
    assert report.returncode == 0, report.stderr
    text = report.stdout
    assert "from diagnoses.json" in text
    verdicts = re.findall(r"^  (ok|warning|failed|off) ", text, flags=re.MULTILINE)
    assert len(verdicts) == 14  # one per check
    d_wins = next(line for line in text.splitlines() if " D wins " in line)
    assert d_wins.split()[0] == "failed" and "since step" in d_wins
    assert "advice:" in text and "verdict: failed" in text
    assert text.strip().endswith(f"picture: {run_dir / 'doctor.png'}")
    png = run_dir / "doctor.png"
    assert png.stat().st_size > 10_000 and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
