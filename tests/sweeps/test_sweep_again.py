"""A sweep started again into its own folder: finished jobs are left alone, the others continue (sweeps/requeue.py)."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from conftest import TINY, run_cli
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from gan_lab.runs.layout import job_dirs, load_summary

SWEEP = ["trainer.steps=4,200", "trainer.log_every=10", "trainer.sample_every=200", "metrics.sweep_samples=0",
         *(o for o in TINY if not o.startswith(("trainer.steps", "trainer.log_every", "trainer.sample_every",
                                                 "metrics.sweep_samples")))]  # fmt: skip


def test_a_sweep_started_again_continues_its_unfinished_jobs(tmp_path):
    sweep = tmp_path / "sweep"
    args = ["train", "-m", *SWEEP, f"hydra.sweep.dir={sweep}"]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("HYDRA_FULL_ERROR", None)
    first = subprocess.Popen([sys.executable, "-m", "gan_lab", *args], cwd=tmp_path, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    deadline = time.monotonic() + 120
    while not any((job / "train.log").is_file() and "step 10/200" in (job / "train.log").read_text()
                  for job in sweep.glob("1_*")):  # job 1 is training  # fmt: skip
        assert time.monotonic() < deadline and first.poll() is None, first.communicate()
        time.sleep(0.1)
    first.send_signal(signal.SIGTERM)  # the sweep stops; job 1 saves a checkpoint first
    out, err = first.communicate(timeout=120)
    assert first.returncode == 143, out + err
    done, stopped = job_dirs(sweep)
    assert load_summary(done)["status"] == "ok" and load_summary(stopped)["status"] == "interrupted"
    stopped_at = load_summary(stopped)["steps"]
    first_events = set(done.glob("events.out.tfevents.*[0-9]"))  # training events, not the HParams session

    again = run_cli(*args, cwd=tmp_path)
    assert again.returncode == 0, again.stdout + again.stderr
    assert f"{done.name} already ended (ok at step 4): not trained again" in again.stdout
    assert f"{stopped.name} holds a checkpoint: continuing from step_{stopped_at:06d}.pt" in again.stdout
    assert set(done.glob("events.out.tfevents.*[0-9]")) == first_events  # job 0 was not trained again
    assert len(list(done.glob("events.out.tfevents.*.hparams"))) == 1  # its HParams session rewritten, not doubled
    with (sweep / "sweep.csv").open() as handle:
        rows = sorted(csv.DictReader(handle), key=lambda row: int(row["job"]))
    assert [(r["trainer.steps"], r["status"], r["steps"]) for r in rows] == [("4", "ok", "4"), ("200", "ok", "200")]
    events = EventAccumulator(str(stopped), size_guidance={"scalars": 0}, purge_orphaned_data=False).Reload()
    assert [e.step for e in events.Scalars("loss/D")] == list(range(10, 201, 10))  # each step once
