"""One writer per run: a second training is refused while the first lives; stale locks are taken over."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import run_cli, train_tiny

from gan_lab.errors import UserError
from gan_lab.runs.lock import RunLock, check_unlocked, lock_path


def snapshot(run_dir: Path) -> dict[str, float]:
    return {str(p.relative_to(run_dir)): p.stat().st_mtime for p in run_dir.rglob("*") if p.is_file()}


def hold(run_dir: Path, **record) -> None:
    lock_path(run_dir).write_text(json.dumps({"host": socket.gethostname(), "token": "x", **record}))


def test_second_writer_is_refused_while_the_first_lives_then_a_dead_holder_is_taken_over(tmp_path):
    run_dir = tmp_path / "run"
    train_tiny(run_dir)
    assert not lock_path(run_dir).exists(), "a finished training releases its lock"
    first = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        hold(run_dir, pid=first.pid)  # the first writer, alive on this host
        before = snapshot(run_dir)
        result = run_cli("train", f"resume={run_dir}", "trainer.steps=6")
        assert result.returncode == 2, result.stdout + result.stderr
        lines = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
        assert len(lines) == 1 and f"pid {first.pid}" in lines[0] and socket.gethostname() in lines[0], lines
        assert snapshot(run_dir) == before, "nothing written by the refused training"
        again = run_cli("train", "trainer.device=cpu", f"hydra.run.dir={tmp_path / 'run'}", cwd=tmp_path)
        assert again.returncode == 2 and f"pid {first.pid}" in again.stderr, again.stdout + again.stderr
        assert snapshot(run_dir) == before
    finally:
        first.kill()
        first.wait()
    # the holder is gone: its lock is stale and the next resume takes it over
    result = run_cli("train", f"resume={run_dir}", "trainer.steps=6")
    assert result.returncode == 0, result.stdout + result.stderr
    assert (run_dir / "checkpoints" / "step_000006.pt").is_file()
    assert not lock_path(run_dir).exists()


def test_lock_rules(tmp_path, monkeypatch):
    monkeypatch.delenv("SLURM_JOB_ID", raising=False)
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        # a live holder on another host, other job: refused, naming it
        hold(tmp_path, host="node-7", pid=live.pid, slurm_job_id="41")
        with pytest.raises(UserError, match="host node-7 pid"):
            RunLock(tmp_path).acquire()
        # the same SLURM job requeued on another host: let in
        monkeypatch.setenv("SLURM_JOB_ID", "41")
        lock = RunLock(tmp_path).acquire()
        assert json.loads(lock_path(tmp_path).read_text())["pid"] == os.getpid()
        lock.release()
        assert not lock_path(tmp_path).exists()
        # a holder whose heartbeat stopped an hour ago (env override shortens it): taken over
        monkeypatch.delenv("SLURM_JOB_ID")
        hold(tmp_path, host="node-7", pid=live.pid)
        old = time.time() - 30
        os.utime(lock_path(tmp_path), (old, old))
        with pytest.raises(UserError):
            check_unlocked(tmp_path)
        monkeypatch.setenv("GAN_LAB_LOCK_STALE_AFTER_S", "10")
        with RunLock(tmp_path) as lock:
            assert json.loads(lock_path(tmp_path).read_text())["token"] == lock.token
    finally:
        live.kill()
        live.wait()
    assert not lock_path(tmp_path).exists()


def test_a_slurm_job_takes_over_the_lock_of_a_slurm_job_that_no_longer_runs(tmp_path, monkeypatch):
    """A sweep started again: its job finds the lock of an earlier, killed SLURM job (squeue decides)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    squeue = bin_dir / "squeue"  # answers `squeue -h -t all -j <id> -o %T` from $SQUEUE_SAYS
    squeue.write_text('#!/bin/sh\necho "$SQUEUE_SAYS"\n')
    squeue.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("SLURM_JOB_ID", "57")
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    hold(run_dir, host="node-3", pid=os.getpid(), slurm_job_id="41")  # on another host: its pid tells nothing
    monkeypatch.setenv("SQUEUE_SAYS", "RUNNING")
    with pytest.raises(UserError, match="SLURM job 41"):
        RunLock(run_dir).acquire()
    monkeypatch.setenv("SQUEUE_SAYS", "OUT_OF_MEMORY")
    with RunLock(run_dir) as lock:
        assert json.loads(lock_path(run_dir).read_text())["token"] == lock.token
