"""`hydra/launcher=local_parallel`: sweep jobs N at a time on this machine, each in a fresh process.

With GPUs, each job gets one of them (CUDA_VISIBLE_DEVICES) and waits until one is free; on a CPU,
each job gets an equal share of the cores (OMP_NUM_THREADS). A job is a spawned Python process that
runs Hydra's `run_job`, so job directories, logs and callbacks are exactly those of a sequential sweep.
The preset is conf/hydra/launcher/local_parallel.yaml. Imported by Hydra's plugin scan: keep it light.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from queue import Queue
from typing import Any

from hydra.core.singleton import Singleton
from hydra.core.utils import JobReturn, JobStatus, configure_log, filter_overrides, run_job, setup_globals
from hydra.plugins.launcher import Launcher
from hydra.types import HydraContext, TaskFunction
from omegaconf import DictConfig, open_dict

log = logging.getLogger(__name__)


def visible_gpus(setting: Any) -> list[str]:
    """GPU ids to hand out: 'auto' (CUDA_VISIBLE_DEVICES, else every GPU present), a list, or none."""
    if setting is None or setting is False or setting == "none":
        return []
    if setting != "auto":
        return [str(setting)] if isinstance(setting, (int, str)) else [str(g) for g in setting]
    if os.environ.get("CUDA_VISIBLE_DEVICES") is not None:
        return [g.strip() for g in os.environ["CUDA_VISIBLE_DEVICES"].split(",") if g.strip()]
    if not Path("/proc/driver/nvidia/gpus").is_dir():  # no NVIDIA driver: skip importing torch
        return []
    import torch

    return [str(i) for i in range(torch.cuda.device_count())]


def _child(payload: bytes, env: dict[str, str], conn) -> None:
    """In the fresh process: set the job's devices and threads, then run it like Hydra's own launchers."""
    os.environ.update(env)  # before anything imports torch
    import cloudpickle

    overrides: list[str] = []
    try:
        idx, overrides, hydra_context, config, task_function, singleton_state = cloudpickle.loads(payload)
        setup_globals()
        Singleton.set_state(singleton_state)
        sweep_config = hydra_context.config_loader.load_sweep_config(config, list(overrides))
        with open_dict(sweep_config):
            sweep_config.hydra.job.id = f"{sweep_config.hydra.job.name}_{idx}"
            sweep_config.hydra.job.num = idx
        ret = run_job(
            hydra_context=hydra_context,
            task_function=task_function,
            config=sweep_config,
            job_dir_key="hydra.sweep.dir",
            job_subdir_key="hydra.sweep.subdir",
        )
    except Exception as error:  # the job could not even start: report it as a failed job
        ret = JobReturn(overrides=list(overrides), status=JobStatus.FAILED, _return_value=error)
    try:
        conn.send_bytes(cloudpickle.dumps(ret))
    except Exception as error:  # an unpicklable return value or exception
        conn.send_bytes(cloudpickle.dumps(_failed(list(overrides), f"{type(error).__name__}: {error}")))
    conn.close()


def _failed(overrides: list[str], message: str) -> JobReturn:
    return JobReturn(overrides=overrides, status=JobStatus.FAILED, _return_value=RuntimeError(message))


class LocalParallelLauncher(Launcher):
    """Runs a sweep's jobs `workers` at a time, each in its own spawned process."""

    def __init__(self, workers: int | None = None, gpus: Any = "auto", threads_per_job: int | None = None) -> None:
        self.workers, self.gpus, self.threads_per_job = workers, gpus, threads_per_job
        self.config: DictConfig | None = None
        self.task_function: TaskFunction | None = None
        self.hydra_context: HydraContext | None = None
        self._stopping = threading.Event()

    def setup(self, *, hydra_context: HydraContext, task_function: TaskFunction, config: DictConfig) -> None:
        self.config, self.hydra_context, self.task_function = config, hydra_context, task_function

    def launch(self, job_overrides: Sequence[Sequence[str]], initial_job_idx: int) -> Sequence[JobReturn]:
        import cloudpickle

        setup_globals()
        assert self.config is not None and self.hydra_context is not None and self.task_function is not None
        configure_log(self.config.hydra.hydra_logging, self.config.hydra.verbose)
        Path(str(self.config.hydra.sweep.dir)).mkdir(parents=True, exist_ok=True)
        gpus = visible_gpus(self.gpus)
        workers = max(1, int(self.workers or len(gpus) or 2))
        threads = self.threads_per_job or max(1, (os.cpu_count() or 1) // workers)
        free_gpus: Queue[str] = Queue()
        for gpu in gpus:
            free_gpus.put(gpu)
        on = f"{len(gpus)} GPUs, one per job" if gpus else f"CPU, {threads} threads per job"
        log.info(f"Launching {len(job_overrides)} jobs, {workers} at a time, each in a fresh process ({on})")
        state = Singleton.get_state()
        context = multiprocessing.get_context("spawn")

        def run(idx: int, overrides: Sequence[str]) -> JobReturn:
            if self._stopping.is_set():
                return _failed(list(overrides), "not started: the sweep was interrupted")
            gpu = free_gpus.get() if gpus else None
            try:
                log.info(f"\t#{idx} : {' '.join(filter_overrides(overrides))}" + (f" (GPU {gpu})" if gpu else ""))
                env = {} if "OMP_NUM_THREADS" in os.environ else {"OMP_NUM_THREADS": str(threads)}
                if gpu is not None:
                    env["CUDA_VISIBLE_DEVICES"] = gpu
                payload = cloudpickle.dumps(
                    (idx, list(overrides), self.hydra_context, self.config, self.task_function, state)
                )
                receive, send = context.Pipe(duplex=False)
                process = context.Process(target=_child, args=(payload, env, send), name=f"sweep job {idx}")
                process.start()
                send.close()
                try:
                    data = receive.recv_bytes()
                except EOFError:
                    data = None
                process.join()
            finally:
                if gpu is not None:
                    free_gpus.put(gpu)
            if data is None:
                if process.exitcode in (130, 143, -2, -15):  # Ctrl-C / SIGTERM: start no more jobs
                    self._stopping.set()
                return _failed(list(overrides), f"the job process exited with code {process.exitcode}")
            return cloudpickle.loads(data)

        pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sweep")
        futures = [pool.submit(run, initial_job_idx + i, o) for i, o in enumerate(job_overrides)]
        try:
            return [future.result() for future in futures]
        except KeyboardInterrupt:
            self._stopping.set()  # running jobs got the Ctrl-C too: they save and stop; start no new ones
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
