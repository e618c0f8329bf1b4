"""Multirun bookkeeping: a failing job is recorded and the sweep goes on; the sweep root gets an index.

`run_sweep_job` wraps one job's training: a bad combination (UserError), a diverged run or any other
exception becomes a failure record instead of ending the sweep; a finished job ends with a cheap
quality evaluation (sweeps/quality.py: FID/KID, precision/recall into metrics.json). The Hydra
callback `SweepIndex` (hydra.callbacks in conf/train.yaml) then writes, in each job process, `job.json` (name, swept values,
status, error line) and the job's HParams session, and at the end of the sweep `sweep.csv` and
`sweep.json` at the sweep root.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hydra.core.utils import JobReturn, JobStatus
from hydra.experimental.callback import Callback
from hydra.types import RunMode
from omegaconf import DictConfig

from gan_lab.errors import UserError, report_and_exit
from gan_lab.runs.layout import FINISHED, load_metrics, write_job_record
from gan_lab.sweeps import job_names  # also registers the job-name resolver in every job process
from gan_lab.sweeps import requeue

log = logging.getLogger("gan_lab.sweeps.callback")


def error_line(error: BaseException) -> str:
    """One line for the index: a UserError's own message, else 'TypeName: message'."""
    text = str(error).strip().splitlines()
    message = text[0] if text else ""
    return message if isinstance(error, UserError) else f"{type(error).__name__}: {message}".rstrip(": ")


def run_sweep_job(train: Callable[[DictConfig, Path], dict], cfg: DictConfig, run_dir: Path) -> dict:
    """Run one sweep job; a failure becomes {'status': 'failed' | 'diverged', 'error': line}.

    An interrupted run (Ctrl-C, SIGTERM) still ends the whole sweep, and HYDRA_FULL_ERROR=1 re-raises.
    A job whose run directory already holds its work continues from it, or is not trained again when
    it ended (sweeps/requeue.py); one that SLURM preempts is requeued by submitit.
    """
    try:
        done = requeue.continue_in_place(cfg, run_dir)
        summary = done if done is not None else (train(cfg, run_dir) or {})
    except Exception as error:
        if getattr(error, "status", None) == "preempted":
            reason = requeue.hand_over(error)  # returns only when the job was not requeued
            return requeue.not_requeued(run_dir, f"{error_line(error)}; not requeued: {reason}")
        if getattr(error, "status", None) == "interrupted":
            report_and_exit(error)
        if os.environ.get("HYDRA_FULL_ERROR") == "1":
            raise
        line = error_line(error)
        log.error(f"error: {line}")
        result = {"status": "diverged" if getattr(error, "status", None) == "diverged" else "failed", "error": line}
        if not isinstance(error, UserError):
            result["traceback"] = traceback.format_exc()
        return result
    status = summary.get("status", "ok")
    if status in FINISHED and not (done is not None and load_metrics(run_dir)):
        try:
            from gan_lab.sweeps.quality import evaluate_job

            evaluate_job(cfg, run_dir)
        except Exception as error:  # the job trained: a failed evaluation leaves it unranked, not failed
            if os.environ.get("HYDRA_FULL_ERROR") == "1":
                raise
            log.warning(f"warning: no quality evaluation for {run_dir.name}: {error_line(error)}")
    return {"status": status}


def job_result(job_return: JobReturn) -> dict:
    """What a job's return says: the dict of run_sweep_job, or a failure from an exception Hydra caught."""
    if job_return.status == JobStatus.FAILED:
        error = job_return._return_value  # the exception; .return_value would re-raise it
        return {"status": "failed", "error": error_line(error) if error is not None else "failed"}
    value = job_return.return_value
    return value if isinstance(value, dict) and "status" in value else {"status": "ok"}


def record_job(run_dir: Path, record: dict) -> None:
    """job.json and the job's HParams session (the SLURM launcher records jobs that left no result too)."""
    write_job_record(run_dir, record)
    try:
        from gan_lab.sweeps.hparams import write_job_hparams

        write_job_hparams(run_dir, record)
    except Exception as error:  # the index matters more than the dashboard: never lose it for this
        log.warning(f"warning: HParams for {run_dir.name} not written: {error_line(error)}")


class SweepIndex(Callback):
    """Hydra callback: job.json and HParams per job, sweep.csv / sweep.json at the end of a multirun."""

    def __init__(self) -> None:
        self._started = time.time()

    def on_job_start(self, config: DictConfig, **kwargs: Any) -> None:
        self._started = time.time()

    def on_job_end(self, config: DictConfig, job_return: JobReturn, **kwargs: Any) -> None:
        if config.hydra.mode != RunMode.MULTIRUN:
            return
        run_dir = Path(config.hydra.runtime.output_dir)
        params = job_names.job_params_from_config(config)
        record = {
            "job": int(config.hydra.job.num),
            "name": job_names.job_name(params),
            "params": params,
            "overrides": list(config.hydra.overrides.task),
            **job_result(job_return),
            "job_time_s": round(time.time() - self._started, 2),
            "started": round(self._started, 3),  # epoch seconds
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "gpus": os.environ.get("CUDA_VISIBLE_DEVICES"),  # the GPUs a launcher gave this job, if any
        }
        record_job(run_dir, record)

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        from gan_lab.runs.layout import display_path
        from gan_lab.sweeps.index import write_index

        sweep_dir = Path(config.hydra.sweep.dir)
        rows = write_index(sweep_dir)
        counts: dict[str, int] = {}
        for row in rows:
            counts[row["status"]] = counts.get(row["status"], 0) + 1
        shown = display_path(sweep_dir)
        log.info(
            f"sweep done: {len(rows)} jobs ({', '.join(f'{n} {s}' for s, n in counts.items())}); "
            f"index {shown}/sweep.csv\n  compare them: gan-lab compare {shown}\n"
            f"  view them: tensorboard --logdir {shown}"
        )
        for row in rows:
            if row["status"] not in FINISHED:
                log.info(f"  job {row['job']} {row['name']}: {row['status']}: {row.get('error') or ''}")
