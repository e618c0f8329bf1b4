"""`hydra/launcher=slurm`: hydra-submitit-launcher's SLURM launcher, with a sweep that outlives its jobs.

The stock launcher waits for each job's result and raises at the first job that has none, so one job
cancelled (scancel), killed at its time limit, out of memory or lost with its node ends the whole
sweep without an index. This one writes such a job's record into its run directory (job.json: status
cancelled, timeout, out_of_memory, node_fail, preempted or failed, with SLURM's state and its log) and goes
on, so sweep.csv has a row for every job. Jobs that SLURM preempts or stops at their time limit are
requeued by submitit and continue from their own checkpoint (gan_lab/sweeps/requeue.py).
The preset is conf/hydra/launcher/slurm.yaml. Imported by Hydra's plugin scan: keep it light.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hydra.core.hydra_config import HydraConfig
from hydra.core.singleton import Singleton
from hydra.core.utils import JobReturn, JobStatus, filter_overrides
from hydra_plugins.hydra_submitit_launcher import submitit_launcher
from hydra_plugins.hydra_submitit_launcher.config import BaseQueueConf
from omegaconf import OmegaConf, open_dict

log = logging.getLogger(__name__)


class SlurmLauncher(submitit_launcher.SlurmLauncher):
    """Submits the sweep as one SLURM job array; a job without a result is recorded, not raised."""

    def launch(self, job_overrides: Sequence[Sequence[str]], initial_job_idx: int) -> Sequence[JobReturn]:
        import submitit

        assert self.config is not None and len(job_overrides) > 0
        params = dict(self.params)
        executor = submitit.AutoExecutor(
            cluster=self._EXECUTOR, folder=params.pop("submitit_folder"),
            slurm_max_num_timeout=params.pop("max_num_timeout", 0),
        )  # fmt: skip
        shared = set(OmegaConf.structured(BaseQueueConf).keys())
        executor.update_parameters(**{k if k in shared else f"{self._EXECUTOR}_{k}": v for k, v in params.items()})
        sweep_dir = Path(str(self.config.hydra.sweep.dir))
        log.info(f"Submitit '{self._EXECUTOR}' sweep output dir : {sweep_dir}")
        sweep_dir.mkdir(parents=True, exist_ok=True)
        if "mode" in self.config.hydra.sweep:
            os.chmod(sweep_dir, mode=int(str(self.config.hydra.sweep.mode), 8))
        job_params = []
        for idx, overrides in enumerate(job_overrides, start=initial_job_idx):
            log.info(f"\t#{idx} : {' '.join(filter_overrides(overrides))}")
            job_params.append((list(overrides), "hydra.sweep.dir", idx, f"job_id_for_{idx}", Singleton.get_state()))
        jobs = executor.map_array(self, *zip(*job_params))
        returns = []
        for job, (overrides, _, idx, _, _) in zip(jobs, job_params):
            try:
                job.wait()
                if _scheduler_status(job):  # killed by the scheduler: skip submitit's 15 s wait for a result
                    job._results_timeout_s = min(getattr(job, "_results_timeout_s", 15), 2)
                returns.append(job.results()[0])
            except Exception as error:  # no result: cancelled, killed, lost; or an error outside Hydra's job
                returns.append(self._lost_job(job, idx, overrides, error))
        return returns

    def _lost_job(self, job: Any, idx: int, overrides: list[str], error: Exception) -> JobReturn:
        """job.json for a job that left no result, and a JobReturn saying how it ended."""
        from gan_lab.runs.layout import display_path, load_job_record
        from gan_lab.sweeps.callback import record_job
        from gan_lab.sweeps.job_names import job_name, job_params_from_config

        state = str(job.state)  # e.g. "CANCELLED by 0", "TIMEOUT", "FAILED"
        status = _scheduler_status(job) or "failed"
        config = self.hydra_context.config_loader.load_sweep_config(self.config, list(overrides))
        with open_dict(config.hydra.job):
            config.hydra.job.num = idx
        saved = HydraConfig.instance().cfg
        HydraConfig.instance().set_config(config)  # what ${hydra:...} in the job's folder name reads
        try:
            run_dir = Path(str(config.hydra.sweep.dir)) / str(config.hydra.sweep.subdir)
            params = job_params_from_config(config)
        finally:
            HydraConfig.instance().cfg = saved
        logs = display_path(Path(job.paths.stderr))
        line = f"SLURM job {job.job_id} ended {state} without a result (log: {logs})"
        record = {**(load_job_record(run_dir) or {}), "job": idx, "name": job_name(params), "params": params,
                  "overrides": list(overrides), "status": status, "error": line, "slurm_job_id": job.job_id}
        run_dir.mkdir(parents=True, exist_ok=True)
        record_job(run_dir, record)
        log.warning(f"job {idx} {record['name']}: {status}: {line}")
        if status == "failed" and not state.startswith("FAILED"):  # e.g. a result that could not be read
            log.warning(f"  {type(error).__name__}: {(str(error).strip().splitlines() or [''])[0]}")
        result = {"status": status, "error": line}
        return JobReturn(overrides=list(overrides), status=JobStatus.COMPLETED, _return_value=result)


def _scheduler_status(job: Any) -> str | None:
    """cancelled, timeout, ... when the scheduler ended the job (not its own exit); None otherwise."""
    from gan_lab.sweeps.index import SCHEDULER_STATUS

    return SCHEDULER_STATUS.get(str(job.state).split(" ")[0])  # e.g. "CANCELLED by 0" -> cancelled
