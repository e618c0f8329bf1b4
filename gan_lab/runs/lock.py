"""One writer per run directory: `run.lock`, created with O_EXCL, names its holder (host, pid, SLURM job).

A lock is stale, and taken over, when its process is gone (same host), when it belongs to this very
SLURM job (a requeued job comes back to its own run, maybe on another host), when a SLURM job taking
it finds the holder's SLURM job no longer running (a sweep started again after a job was killed), or
when its heartbeat (the file's mtime, touched while training) is older than GAN_LAB_LOCK_STALE_AFTER_S
(default 1 h).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import threading
import time
import uuid
from pathlib import Path

from gan_lab.errors import UserError
from gan_lab.runs.layout import RUN_LOCK, display_path

STALE_AFTER_S = 3600.0


def lock_path(run_dir: Path) -> Path:
    return Path(run_dir) / RUN_LOCK


def _stale_after() -> float:
    try:
        return float(os.environ.get("GAN_LAB_LOCK_STALE_AFTER_S", STALE_AFTER_S))
    except ValueError:
        return STALE_AFTER_S


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# squeue states of a job that may still come back to write (running, about to, or requeued)
ACTIVE_STATES = {"PENDING", "CONFIGURING", "RUNNING", "COMPLETING", "SUSPENDED", "REQUEUED", "REQUEUE_HOLD",
                 "REQUEUE_FED", "RESIZING", "SIGNALING", "STAGE_OUT", "STOPPED", "SPECIAL_EXIT"}  # fmt: skip


def slurm_job_active(job_id: str) -> bool | None:
    """Whether SLURM may still run job_id (squeue); None when it cannot tell (no squeue, no answer)."""
    try:
        answer = subprocess.run(["squeue", "-h", "-t", "all", "-j", job_id, "-o", "%T"], capture_output=True,
                                text=True, timeout=30)  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    if answer.returncode != 0:
        return False if "invalid job id" in answer.stderr.lower() else None  # gone from SLURM's memory
    return any(state in ACTIVE_STATES for state in answer.stdout.split())


def read_holder(path: Path) -> dict | None:
    try:
        holder = json.loads(path.read_text())
        return holder if isinstance(holder, dict) else {}
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return {}  # unreadable: judged by its heartbeat alone


def stale_reason(path: Path, holder: dict) -> str | None:
    """Why the lock at path may be taken over, or None while its holder may still be writing."""
    job = os.environ.get("SLURM_JOB_ID")
    held_by = holder.get("slurm_job_id")
    if job and held_by == job:
        return f"same SLURM job {job}"
    if job and held_by and slurm_job_active(str(held_by)) is False:
        return f"SLURM job {held_by} is no longer running"
    if holder.get("host") == socket.gethostname() and isinstance(holder.get("pid"), int):
        if holder["pid"] == os.getpid():
            return "this process"
        if not _pid_alive(holder["pid"]):
            return f"process {holder['pid']} is gone"
    try:
        age = time.time() - path.stat().st_mtime
    except FileNotFoundError:
        return "released"
    if age > _stale_after():
        return f"no heartbeat for {age:.0f} s"
    return None


def describe(holder: dict) -> str:
    job = f", SLURM job {holder['slurm_job_id']}" if holder.get("slurm_job_id") else ""
    return f"host {holder.get('host', '?')} pid {holder.get('pid', '?')}{job}"


def check_unlocked(run_dir: Path) -> None:
    """Refuse (UserError) when another live writer holds run_dir; writes nothing."""
    path = lock_path(run_dir)
    holder = read_holder(path)
    if holder is not None and stale_reason(path, holder) is None:
        raise UserError(
            f"{display_path(Path(run_dir))} is being written by another training ({describe(holder)}); "
            f"wait for it to end, or remove {display_path(path)} if that process is gone"
        )


class RunLock:
    """Hold run_dir's lock while training; `with RunLock(run_dir):` releases it on any exit."""

    def __init__(self, run_dir: Path):
        self.path = lock_path(run_dir)
        self.token = uuid.uuid4().hex
        self.held = False
        self._stop = threading.Event()

    def acquire(self) -> RunLock:
        record = {"host": socket.gethostname(), "pid": os.getpid(), "token": self.token,
                  "slurm_job_id": os.environ.get("SLURM_JOB_ID"), "since": time.time()}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        for _ in range(3):
            try:
                fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                check_unlocked(self.path.parent)  # raises while a live writer holds it
                self._take_over()
                continue
            with os.fdopen(fd, "w") as f:
                json.dump(record, f)
            self.held = True
            interval = max(0.05, min(60.0, _stale_after() / 4))
            threading.Thread(target=self._beat, args=(interval,), daemon=True, name="run-lock-heartbeat").start()
            return self
        raise UserError(f"could not take {display_path(self.path)}: another training keeps taking it")

    def _take_over(self) -> None:
        """Remove a stale lock: rename first, so two takers cannot both remove a fresh lock."""
        aside = self.path.with_name(f"{self.path.name}.stale.{self.token}")
        try:
            os.replace(self.path, aside)
            aside.unlink()
        except FileNotFoundError:
            pass

    def _beat(self, interval: float) -> None:
        while not self._stop.wait(interval):
            self.heartbeat()

    def heartbeat(self) -> None:
        if self.held:
            try:
                os.utime(self.path)
            except FileNotFoundError:
                pass

    def release(self) -> None:
        self._stop.set()
        if self.held and (read_holder(self.path) or {}).get("token") == self.token:
            self.path.unlink(missing_ok=True)
        self.held = False

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()
