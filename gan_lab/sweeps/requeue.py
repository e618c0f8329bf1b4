"""A sweep job that SLURM stops comes back and carries on in its own run directory.

Ahead of a time limit or a preemption SLURM sends the job submitit's signal (SIGUSR2; it arrives
`hydra.launcher.signal_delay_s` before the limit): the trainer finishes its step, saves a checkpoint
and stops with status "preempted" (training/signals.py); `hand_over` then lets submitit requeue the
job (`scontrol requeue`). The requeued job starts afresh with the same overrides, so it lands in the
same run directory, and `continue_in_place` points it at that directory's latest checkpoint. The same
happens when a whole sweep is started again into its own folder (hydra.sweep.dir=<the sweep>): jobs
that finished are left as they are, the others continue from their checkpoints.
"""

from __future__ import annotations

import logging
import signal
from pathlib import Path

from omegaconf import DictConfig, open_dict

from gan_lab.errors import RunStopped
from gan_lab.runs.layout import checkpoints, display_path, load_summary, write_summary

log = logging.getLogger("gan_lab.sweeps.requeue")

# summary.json statuses of a run that reached its verdict: started again, it is left as it is.
SETTLED = ("diverged", "stopped_by_doctor")


def continue_in_place(cfg: DictConfig, run_dir: Path) -> dict | None:
    """Set cfg.resume to run_dir's latest checkpoint when it has one; the summary instead when the job is done.

    Done: the run finished all of cfg.trainer.steps ("ok"), diverged, or was stopped by the doctor.
    """
    summary = load_summary(run_dir)
    if summary is not None:
        status, steps = summary.get("status"), summary.get("steps")
        if status in SETTLED or (status == "ok" and isinstance(steps, int) and steps >= cfg.trainer.steps):
            log.info(f"{display_path(run_dir)} already ended ({status} at step {steps}): not trained again")
            return summary
    found = checkpoints(run_dir)
    if cfg.get("resume") or not found:
        return None
    with open_dict(cfg):
        cfg.resume = str(found[-1])
    log.info(f"{display_path(run_dir)} holds a checkpoint: continuing from {found[-1].name}")
    return None


def hand_over(stop: RunStopped) -> str:
    """After the preempted job saved its checkpoint, submitit's own handler requeues the job and exits.

    Returns only when nothing was requeued (outside a SLURM job, or submitit declined: e.g. more time-outs
    than hydra.launcher.max_num_timeout); the reason is returned for the job's record.
    """
    from gan_lab.training.signals import preemption_signal

    signum = preemption_signal()
    handler = signal.getsignal(signum) if signum is not None else None
    if not callable(handler):
        return "no SLURM job to requeue"
    log.warning(f"{stop}; requeueing")
    try:
        handler(signum, None)  # submitit: dumps the job, `scontrol requeue`, then exits this process
    except Exception as error:  # submitit's UncompletedJobError: it did not requeue
        return str(error).strip() or type(error).__name__
    return "submitit did not requeue the job"


def not_requeued(run_dir: Path, line: str) -> dict:
    """The job's result when it stopped for SLURM but was not requeued; summary.json says so too."""
    summary = load_summary(run_dir)
    if summary is not None:
        write_summary(run_dir, {**summary, "error": line})
    log.warning(line)
    return {"status": "preempted", "error": line}
