"""A sweep job finds its own work: continue from its checkpoint, leave a finished run alone; submitit's requeue."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from gan_lab.errors import RunStopped
from gan_lab.runs.layout import load_summary
from gan_lab.sweeps.callback import run_sweep_job
from gan_lab.sweeps.requeue import continue_in_place, hand_over


def job_dir(tmp_path: Path, steps: list[int] = (), summary: dict | None = None) -> Path:
    run = tmp_path / "0_filters=8"
    (run / "checkpoints").mkdir(parents=True)
    for step in steps:
        (run / "checkpoints" / f"step_{step:06d}.pt").write_bytes(b"")
    if summary is not None:
        (run / "summary.json").write_text(json.dumps(summary))
    return run


def config(steps: int = 100):
    return OmegaConf.create({"resume": None, "trainer": {"steps": steps}})


@pytest.mark.parametrize(
    "steps,summary,continues_from",
    [
        ([], None, None),  # a fresh job
        ([20, 40], None, 40),  # killed (no summary): its latest checkpoint
        ([20, 40], {"status": "interrupted", "steps": 40}, 40),
        ([40], {"status": "preempted", "steps": 40}, 40),
        ([50], {"status": "time_limit", "steps": 50}, 50),  # trainer.time_limit: a new budget
        ([100], {"status": "ok", "steps": 100}, "done"),
        ([60], {"status": "ok", "steps": 60}, 60),  # finished, and trainer.steps was raised since
        ([10], {"status": "diverged", "steps": 12}, "done"),
        ([30], {"status": "stopped_by_doctor", "steps": 30}, "done"),
    ],
)
def test_a_job_continues_from_its_own_checkpoint_unless_it_ended(tmp_path, steps, summary, continues_from):
    run, cfg = job_dir(tmp_path, steps, summary), config()
    done = continue_in_place(cfg, run)
    if continues_from == "done":
        assert done == summary and cfg.resume is None
    else:
        assert done is None
        assert cfg.resume == (str(run / "checkpoints" / f"step_{continues_from:06d}.pt") if continues_from else None)


def test_a_job_that_was_not_requeued_says_why(tmp_path, monkeypatch):
    stop = RunStopped("SLURM stops the job (SIGUSR2: time limit or preemption) at step 7/100", 140, "preempted")
    monkeypatch.delenv("SUBMITIT_EXECUTOR", raising=False)
    assert hand_over(stop) == "no SLURM job to requeue"

    monkeypatch.setenv("SUBMITIT_EXECUTOR", "slurm")
    calls = []

    def submitit_handler(signum, frame):  # as submitit's when it declines: it raises UncompletedJobError
        calls.append(signum)
        raise RuntimeError("Job not requeued because: timed-out too many times.")

    previous = signal.signal(signal.SIGUSR2, submitit_handler)
    try:
        run = job_dir(tmp_path, [7], {"status": "preempted", "steps": 7, "error": str(stop)})

        def train(cfg, run_dir):
            raise stop

        result = run_sweep_job(train, config(), run)
    finally:
        signal.signal(signal.SIGUSR2, previous)
    assert calls == [signal.SIGUSR2]
    assert result["status"] == "preempted"
    assert result["error"].endswith("not requeued: Job not requeued because: timed-out too many times.")
    assert load_summary(run)["error"] == result["error"]
