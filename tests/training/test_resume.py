"""Runs that survive: exact resume, kill -9 mid-save, Ctrl-C / SIGTERM, non-finite values, safe loading."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from conftest import REPO, TINY, run_cli, train_tiny
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from gan_lab.errors import UserError
from gan_lab.runs.checkpoint import load_checkpoint, prune_checkpoints, save_atomic

LOGGED = ["loss/D", "loss/G", "prob/D_real", "prob/D_fake"]


def logged(run_dir: Path) -> dict[str, list[tuple[int, float]]]:
    acc = EventAccumulator(str(run_dir), size_guidance={"scalars": 0})
    acc.Reload()
    return {tag: [(e.step, e.value) for e in acc.Scalars(tag)] for tag in LOGGED}


def final_checkpoint(run_dir: Path) -> dict:
    return torch.load(sorted((run_dir / "checkpoints").glob("step_*.pt"))[-1], weights_only=True)


def assert_same_weights(a: dict, b: dict) -> None:
    for net in ("G", "D"):
        assert a[net].keys() == b[net].keys()
        for key in a[net]:
            assert torch.equal(a[net][key], b[net][key]), f"{net}.{key} differs"
    for opt in ("opt_G", "opt_D"):
        for index, state in a[opt]["state"].items():
            for name, value in state.items():
                assert torch.equal(value, b[opt]["state"][index][name]), f"{opt} {index} {name} differs"


@pytest.fixture(scope="module")
def straight(tmp_path_factory) -> Path:
    """8 steps in one go: the reference the resumed runs must equal bit for bit."""
    run_dir = tmp_path_factory.mktemp("straight") / "run"
    train_tiny(run_dir, "trainer.steps=8", "trainer.checkpoint_every=3", "tricks=noisy")
    return run_dir


def test_resume_equals_the_straight_run(straight, tmp_path):
    run_dir = tmp_path / "run"
    train_tiny(run_dir, "trainer.steps=4", "trainer.checkpoint_every=3", "tricks=noisy")
    result = run_cli("train", f"resume={run_dir}", "trainer.steps=8")
    assert result.returncode == 0, result.stderr
    assert "resuming" in result.stdout and "from step 4" in result.stdout
    assert "done: 4 steps (step 4 to 8) in" in result.stdout  # this session's steps, as its img/s counts them
    assert_same_weights(final_checkpoint(straight), final_checkpoint(run_dir))
    assert logged(run_dir) == logged(straight)  # same values at steps 2, 4, 6, 8: nothing duplicated or missing
    assert [step for step, _ in logged(run_dir)["loss/D"]] == [2, 4, 6, 8]


def test_resume_from_a_checkpoint_inside_a_logging_interval(straight, tmp_path):
    """Step 3 is between logging steps 2 and 4: the partial interval is part of the checkpoint."""
    run_dir = tmp_path / "run"
    train_tiny(run_dir, "trainer.steps=8", "trainer.checkpoint_every=3", "tricks=noisy", "trainer.keep_checkpoints=0")
    result = run_cli("train", f"resume={run_dir / 'checkpoints' / 'step_000003.pt'}")
    assert result.returncode == 0, result.stderr
    # The events the first session wrote after step 3 are purged by the second.
    assert logged(run_dir) == logged(straight)
    assert_same_weights(final_checkpoint(straight), final_checkpoint(run_dir))


def test_resume_keeps_the_run_config_and_refuses_changes(tmp_path):
    run_dir = tmp_path / "run"
    train_tiny(run_dir, "trainer.steps=2")
    config_before = (run_dir / ".hydra" / "config.yaml").read_text()
    changed = run_cli("train", f"resume={run_dir}", "trainer.steps=4", "model.filters=16")
    assert changed.returncode == 2
    assert "model.filters=16 (the run has 8)" in changed.stderr and "Traceback" not in changed.stderr
    finished = run_cli("train", f"resume={run_dir}")
    assert finished.returncode == 2 and "already finished its 2 steps" in finished.stderr
    assert (run_dir / ".hydra" / "config.yaml").read_text() == config_before  # refused before Hydra wrote anything


def test_last_k_checkpoints_are_kept(tmp_path):
    run_dir = tmp_path / "run"
    train_tiny(run_dir, "trainer.steps=6", "trainer.checkpoint_every=1", "trainer.keep_checkpoints=2")
    assert [p.name for p in sorted((run_dir / "checkpoints").iterdir())] == ["step_000005.pt", "step_000006.pt"]
    payload = final_checkpoint(run_dir)
    assert {"G", "D", "opt_G", "opt_D", "step", "config", "rng", "data", "interval"} <= set(payload)
    assert set(payload["rng"]) == {"python", "numpy", "torch", "cuda"}


def start_training(run_dir: Path, *overrides: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "gan_lab", "train", *TINY, *overrides, f"hydra.run.dir={run_dir}"],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def wait_for(predicate, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.001)


@pytest.mark.slow
def test_kill_9_while_saving_leaves_a_loadable_checkpoint(tmp_path):
    run_dir = tmp_path / "run"
    process = start_training(run_dir, "trainer.steps=1000", "trainer.checkpoint_every=1", "trainer.keep_checkpoints=2")
    folder = run_dir / "checkpoints"
    saving = lambda: folder.is_dir() and any(p.name.endswith(".tmp") for p in folder.iterdir())  # noqa: E731
    try:
        for _ in range(random.randint(1, 10)):  # a random save, caught while its temporary file is open
            wait_for(saving)
            wait_for(lambda: not saving())
        wait_for(saving)
        process.kill()
    finally:
        process.kill()
        process.communicate()
    assert process.returncode == -signal.SIGKILL
    latest = sorted(folder.glob("step_*.pt"))[-1]
    step = load_checkpoint(latest)["step"]
    assert step >= 1
    result = run_cli("train", f"resume={run_dir}", f"trainer.steps={step + 2}")
    assert result.returncode == 0, result.stderr
    assert json.loads((run_dir / "summary.json").read_text())["steps"] == step + 2
    assert not any(p.name.endswith(".tmp") for p in folder.iterdir())


@pytest.mark.parametrize("signum,code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_signal_saves_a_checkpoint_and_says_how_to_resume(tmp_path, signum, code):
    run_dir = tmp_path / "run"
    process = start_training(run_dir, "trainer.steps=5000", "trainer.checkpoint_every=0")
    wait_for(lambda: (run_dir / "samples").is_dir())  # training is under way
    process.send_signal(signum)
    out, err = process.communicate(timeout=120)
    assert process.returncode == code, err
    lines = err.strip().splitlines()
    assert lines[-1].startswith(f"stopped by {signal.Signals(signum).name} at step ")
    assert f"resume={run_dir}" in lines[-1] and "Traceback" not in err
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "interrupted" and 0 < summary["steps"] < 5000
    assert load_checkpoint(run_dir / summary["checkpoint"])["step"] == summary["steps"]
    assert EventAccumulator(str(run_dir)).Reload().Scalars("loss/D")  # event files flushed


@pytest.mark.parametrize("finished,says", [(3, "finishing step 4 and"), (5, "finishing the outputs of step 5 and")])
def test_the_signal_message_names_the_step_in_progress_or_the_last_one(caplog, finished, says):
    from gan_lab.training.signals import StopRequests

    requests = StopRequests()
    with caplog.at_level("WARNING", logger="gan_lab.training.trainer"):
        with requests.caught(lambda: (finished, 5, None)):
            os.kill(os.getpid(), signal.SIGTERM)
    assert requests.signal == signal.SIGTERM
    assert f"SIGTERM: {says} saving a checkpoint" in caplog.text


def test_non_finite_losses_stop_with_the_step_and_keep_the_last_good_checkpoint(tmp_path):
    run_dir = tmp_path / "run"
    overrides = ["trainer.steps=200", "trainer.checkpoint_every=1", "optim=sgd", "optim.lr_G=1e4", "optim.lr_D=1e4"]
    result = run_cli("train", *TINY, *overrides, "trainer.log_every=1", f"hydra.run.dir={run_dir}")
    assert result.returncode == 3, result.stdout + result.stderr
    line = result.stderr.strip().splitlines()[-1]
    assert line.startswith("error: non-finite") and " at step " in line and "Traceback" not in result.stderr
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "diverged" and summary["error"] == line.removeprefix("error: ")
    for path in (run_dir / "checkpoints").glob("step_*.pt"):
        payload = load_checkpoint(path)
        assert all(torch.isfinite(v).all() for v in payload["G"].values() if v.is_floating_point())


def test_skip_step_gives_up_after_many_non_finite_steps(tmp_path):
    run_dir = tmp_path / "run"
    overrides = ["trainer.steps=200", "optim=sgd", "optim.lr_G=1e4", "optim.lr_D=1e4", "trainer.on_nan=skip_step"]
    result = run_cli("train", *TINY, *overrides, f"hydra.run.dir={run_dir}")
    assert result.returncode == 3, result.stdout + result.stderr
    assert "25 steps in a row with non-finite losses or gradients" in result.stderr


class _RunsCode:
    """Unpickling this would run a shell command: the payload of a malicious checkpoint."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_malicious_checkpoint_is_refused_without_running_code(tiny_run, tmp_path):
    marker = tmp_path / "pwned"
    run_dir = tmp_path / "run"
    (run_dir / "checkpoints").mkdir(parents=True)
    (run_dir / ".hydra").mkdir()
    for name in ("config.yaml", "overrides.yaml", "hydra.yaml"):
        (run_dir / ".hydra" / name).write_bytes((tiny_run / ".hydra" / name).read_bytes())
    evil = run_dir / "checkpoints" / "step_000002.pt"
    torch.save({"G": _RunsCode(marker), "D": {}, "step": 2, "config": {}}, evil)
    with pytest.raises(UserError, match="refusing to load"):
        load_checkpoint(evil)
    result = run_cli("train", f"resume={run_dir}")
    assert result.returncode == 2 and "refusing to load" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not marker.exists()


def test_disk_full_while_saving_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    path = tmp_path / "checkpoints" / "step_000001.pt"
    save_atomic({"G": {"w": torch.ones(3)}, "D": {}, "step": 1, "config": {}}, path)

    def disk_full(obj, f, *args, **kwargs):
        f.write(b"partial")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(torch, "save", disk_full)
    with pytest.raises(UserError, match="No space left on device; earlier checkpoints are intact"):
        save_atomic({"step": 2}, tmp_path / "checkpoints" / "step_000002.pt")
    assert sorted(p.name for p in path.parent.iterdir()) == ["step_000001.pt"]
    assert torch.equal(load_checkpoint(path)["G"]["w"], torch.ones(3))


def test_prune_keeps_the_newest(tmp_path):
    for step in (1, 2, 3, 10):
        (tmp_path / f"step_{step:06d}.pt").write_bytes(b"")
    (tmp_path / "best.pt").write_bytes(b"")
    prune_checkpoints(tmp_path, 2)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best.pt", "step_000003.pt", "step_000010.pt"]


def test_same_seed_same_numbers_and_deterministic_mode(straight, tmp_path):
    again = tmp_path / "again"
    train_tiny(again, "trainer.steps=8", "trainer.checkpoint_every=3", "tricks=noisy", "trainer.deterministic=true")
    assert_same_weights(final_checkpoint(straight), final_checkpoint(again))
    other = tmp_path / "other"
    train_tiny(other, "trainer.steps=8", "tricks=noisy", "trainer.seed=1")
    assert not torch.equal(final_checkpoint(straight)["G"]["net.to_image.weight"], final_checkpoint(other)["G"]["net.to_image.weight"])


def test_compile_falls_back_to_eager_when_compiling_fails(tmp_path, monkeypatch, caplog):
    """A compiler error at the first step (here simulated) is a warning; the run trains eagerly."""
    import torch._dynamo.exc

    from gan_lab.config.preflight import compose_config
    from gan_lab.data import build_image_source
    from gan_lab.models import build_models
    from gan_lab.training.trainer import Trainer

    class FailsToCompile(torch.nn.Module):
        def __init__(self, module):
            super().__init__()
            self.module = module

        def forward(self, *args):
            raise torch._dynamo.exc.TorchDynamoException("backend inductor failed: no C++ compiler")

    monkeypatch.setattr(torch, "compile", FailsToCompile)
    cfg = compose_config([*TINY, "trainer.compile=true", "trainer.steps=2"])
    G, D = build_models(cfg)
    trainer = Trainer(cfg, G, D, build_image_source(cfg, torch.device("cpu")), tmp_path, torch.device("cpu"))
    with caplog.at_level("WARNING"):
        summary = trainer.fit()
    assert summary["status"] == "ok" and summary["steps"] == 2
    assert any("torch.compile failed" in r.message and "continuing without" in r.message for r in caplog.records)
