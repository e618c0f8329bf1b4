"""Sweeps through a real SLURM scheduler (hydra/launcher=slurm): one node on localhost, started for this module.

`uv run pytest -k slurm` runs them. They need root and Debian's slurm-wlm and munge packages; without
them they skip, except where the environment variable CI is set: there they fail (CI installs both).
The sweep driver runs as a real `gan-lab train -m` subprocess; its jobs are SLURM jobs on this machine.
"""

from __future__ import annotations

import csv
import math
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import TINY, run_cli
from slurm_cluster import SlurmCluster, missing
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from gan_lab.runs.layout import job_dirs, load_job_record, load_summary

BAD = "model.kernel_size=9 is not allowed"  # kernel sizes run from 2 to 7
# One job per CPU of this node, small: the node may be a 2-core machine.
LAUNCHER = [
    "hydra/launcher=slurm",
    "hydra.launcher.partition=test",
    "hydra.launcher.cpus_per_task=1",
    "hydra.launcher.mem_gb=1",
    "hydra.launcher.gpus_per_node=0",
    "hydra.launcher.timeout_min=10",
    "metrics.sweep_samples=0",  # no closing quality evaluation: the scheduler is what these tests are about
]
# TINY without what these sweeps set themselves (Hydra takes the last value given for a key)
TINY_SWEPT = [o for o in TINY if not o.startswith(("model.filters", "trainer.steps", "trainer.log_every",
                                                  "trainer.sample_every", "metrics.sweep_samples"))]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """munged, slurmctld and slurmd in a temporary folder, for this module; clients reach it via SLURM_CONF."""
    reason = missing()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"CI runs the SLURM tests, but {reason}")
        pytest.skip(reason)
    folder = tmp_path_factory.mktemp("slurm")
    cluster = SlurmCluster(folder).start()
    print(f"test SLURM cluster up in {cluster.setup_s:.1f} s ({folder})")
    with pytest.MonkeyPatch.context() as patch:
        for key, value in cluster.env.items():
            patch.setenv(key, value)
        yield cluster
    cluster.stop()


def start_sweep(cwd: Path, *overrides: str) -> subprocess.Popen:
    """`gan-lab train -m <overrides>` in cwd, in the background; its output goes to cwd/driver.log."""
    cwd.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": "1"}  # jobs inherit it (sbatch --export=ALL)
    env.pop("HYDRA_FULL_ERROR", None)
    log = open(cwd / "driver.log", "w")
    return subprocess.Popen(
        [sys.executable, "-m", "gan_lab", "train", "-m", *LAUNCHER, f"hydra.sweep.dir={cwd / 'sweep'}", *overrides],
        cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip


def finish(driver: subprocess.Popen, cwd: Path, timeout: float) -> str:
    try:
        driver.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        driver.kill()
        driver.wait()
    output = (cwd / "driver.log").read_text()
    assert driver.returncode == 0, output
    return output


def read_index(sweep: Path) -> list[dict]:
    with (sweep / "sweep.csv").open() as handle:
        return sorted(csv.DictReader(handle), key=lambda row: int(row["job"]))


def wait_for(condition, timeout: float, what: str, driver: subprocess.Popen | None = None, cwd: Path | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        if driver is not None and driver.poll() is not None:
            break
        time.sleep(0.2)
    log = (cwd / "driver.log").read_text() if cwd is not None else ""
    pytest.fail(f"{what} did not happen within {timeout:.0f} s\n{log}")


def slurm_job_of(run_dir: Path) -> str:
    """The SLURM job id that ran a sweep job (an array task as <array>_<task>), as Hydra recorded it."""
    from omegaconf import OmegaConf

    return str(OmegaConf.load(run_dir / ".hydra" / "hydra.yaml").hydra.job.id)


def training_reached(run: Path, step: int, steps: int) -> bool:
    """The run's train.log shows training at `step` (a logging step) of `steps`."""
    log = run / "train.log"
    return log.is_file() and f"step {step}/{steps} " in log.read_text()


def final_state(cluster: SlurmCluster, job: str) -> dict[str, str]:
    """`scontrol show job` once SLURM has finished with the job (the sweep may end a moment before)."""
    return wait_for(lambda: (f := cluster.job_fields(job))["JobState"] not in ("RUNNING", "COMPLETING") and f, 30,
                    f"SLURM job {job} ending")  # fmt: skip


def logged_steps(run_dir: Path) -> list[int]:
    """Every loss/D step in the run's event files, duplicates kept (no purging of out-of-order records)."""
    events = EventAccumulator(str(run_dir), size_guidance={"scalars": 0}, purge_orphaned_data=False).Reload()
    return [event.step for event in events.Scalars("loss/D")]


# ----------------------------------------------------------------- a sweep that goes well
@pytest.fixture(scope="module")
def finished_sweep(cluster, tmp_path_factory) -> tuple[Path, str]:
    cwd = tmp_path_factory.mktemp("slurm_sweep")
    driver = start_sweep(cwd, "model.kernel_size=3,4", "model.filters=4,8", "trainer.steps=4", "trainer.log_every=2",
                         "trainer.sample_every=2", *TINY_SWEPT)
    return cwd / "sweep", finish(driver, cwd, timeout=240)


def test_slurm_sweep_runs_every_job_through_the_scheduler(finished_sweep, cluster):
    sweep, output = finished_sweep
    rows = read_index(sweep)
    assert [(r["model.kernel_size"], r["model.filters"], r["status"]) for r in rows] == [
        ("3", "4", "ok"), ("3", "8", "ok"), ("4", "4", "ok"), ("4", "8", "ok"),
    ]  # fmt: skip
    assert all(r["steps"] == "4" and r["error"] == "" for r in rows)
    assert "sweep done: 4 jobs (4 ok)" in output
    for run in job_dirs(sweep):
        job = slurm_job_of(run)  # e.g. 7_2: array 7, task 2
        logs = sweep / ".submitit" / job
        assert "Job completed successfully" in (logs / f"{job}_0_log.out").read_text()
        fields = final_state(cluster, job)
        assert (fields["JobState"], fields["Partition"], fields["NumCPUs"]) == ("COMPLETED", "test", "1")
        assert load_job_record(run)["host"].split(".")[0] == cluster.node


# ----------------------------------------------------------------- a job that fails, one that is cancelled
@pytest.fixture(scope="module")
def troubled_sweep(cluster, tmp_path_factory) -> tuple[Path, str, str]:
    """kernel_size=4 finishes, kernel_size=5 is scancel'ed while it trains, kernel_size=9 cannot be built."""
    cwd = tmp_path_factory.mktemp("slurm_troubled")
    driver = start_sweep(cwd, "model.kernel_size=4,5,9", "model.filters=4", "trainer.steps=600", "trainer.log_every=50",
                         "trainer.sample_every=1000", *TINY_SWEPT)  # fmt: skip
    sweep = cwd / "sweep"
    run = wait_for(lambda: next(iter(sweep.glob("1_*")), None), 120, "job 1 starting", driver, cwd)
    wait_for(lambda: training_reached(run, 50, 600), 120, "job 1 training", driver, cwd)
    job = slurm_job_of(run)
    subprocess.run(["scancel", job], check=True)
    return sweep, finish(driver, cwd, timeout=180), job


def test_slurm_failing_job_is_recorded_while_the_others_finish(troubled_sweep):
    sweep, output, _ = troubled_sweep
    rows = read_index(sweep)
    assert [(r["model.kernel_size"], r["status"]) for r in rows] == [("4", "ok"), ("5", "cancelled"), ("9", "failed")]
    assert rows[0]["steps"] == "600" and rows[2]["error"].startswith(BAD)
    assert "sweep done: 3 jobs (1 ok, 1 cancelled, 1 failed)" in output


def test_slurm_scancel_is_recorded_as_cancelled_not_as_interrupted(troubled_sweep, cluster):
    sweep, _, job = troubled_sweep
    run = job_dirs(sweep)[1]
    assert final_state(cluster, job)["JobState"] == "CANCELLED"
    record = load_job_record(run)  # written by the sweep driver: the job itself left no result
    assert record["status"] == "cancelled" and record["error"].startswith(f"SLURM job {job} ended CANCELLED")
    assert f".submitit/{job}/{job}_0_log.err" in record["error"]
    # The run handled scancel's SIGTERM like any SIGTERM (checkpoint, summary "interrupted"); the index
    # says why it came: the scheduler cancelled it.
    summary = load_summary(run)
    assert summary["status"] == "interrupted" and 50 <= summary["steps"] < 600
    assert (run / summary["checkpoint"]).is_file()


# ----------------------------------------------------------------- preemption and time limit: checkpoint, requeue, resume
def steps_per_second(tmp_path: Path) -> float:
    """This machine's speed on the preemption test's run, one thread, measured in this process."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        result = run_cli("train", *TINY_SWEPT, "model.filters=4", "trainer.steps=300", "trainer.log_every=50",
                         "trainer.sample_every=1000", f"hydra.run.dir={tmp_path / 'speed'}")  # fmt: skip
    finally:
        torch.set_num_threads(threads)
    assert result.returncode == 0, result.stdout + result.stderr
    summary = load_summary(tmp_path / "speed")
    return summary["img_per_s"] / summary["batch_size"]


def log_since_last(run: Path, marker: str) -> str:
    """The run's train.log after the last line that holds marker ("" while no line does)."""
    log = (run / "train.log").read_text() if (run / "train.log").is_file() else ""
    return log.rsplit(marker, 1)[1] if marker in log else ""


@pytest.mark.slow
def test_slurm_preempted_and_signalled_job_resumes_in_its_run_dir_with_every_step_once(cluster, tmp_path):
    """A run preempted first by `scontrol requeue` (SIGTERM, as preemption sends on most clusters), then sent
    SLURM's time-limit warning (SIGUSR2, which hydra.launcher.signal_delay_s asks SLURM to send that many seconds
    before the limit; sent here with scancel, so that the test does not wait out a limit and does not depend
    on how fast this machine trains): each time the job saves a checkpoint, is requeued, and continues in its
    own run directory."""
    rate = steps_per_second(tmp_path)
    steps = 100 + 50 * math.ceil(rate * 20 / 50)  # about 20 s of training left after the first requeue
    driver = start_sweep(tmp_path, "model.filters=4", "model.kernel_size=4", f"trainer.steps={steps}",
                         "trainer.log_every=50", "trainer.sample_every=100000", "hydra.launcher.signal_delay_s=5",
                         *TINY_SWEPT)  # fmt: skip
    sweep = tmp_path / "sweep"
    run = wait_for(lambda: next(iter(sweep.glob("0_*")), None), 120, "the job starting", driver, tmp_path)
    wait_for(lambda: training_reached(run, 100, steps), 120, "the job training", driver, tmp_path)
    job = slurm_job_of(run)
    submission = next(sweep.glob(f".submitit/{job}/*_submission.sh")).read_text()
    assert "#SBATCH --signal=USR2@5" in submission  # what makes SLURM warn the job 5 s before its limit
    subprocess.run(["scontrol", "requeue", job], check=True)  # what an admin, or preemption, does
    resumed = "holds a checkpoint: continuing from step_"
    wait_for(lambda: f"/{steps} " in log_since_last(run, resumed), 120, "the requeued job training", driver, tmp_path)
    subprocess.run(["scancel", "--signal=USR2", job], check=True)  # as SLURM does signal_delay_s before the limit
    finish(driver, tmp_path, timeout=240)
    fields = final_state(cluster, job)
    assert fields["JobState"] == "COMPLETED" and int(fields["Restarts"]) == 2, fields
    log = (run / "train.log").read_text()
    assert "SIGTERM: finishing step" in log  # scontrol requeue
    assert "SIGUSR2 (SLURM: time limit or preemption ahead)" in log and "Requeued job" in log
    assert log.count(resumed) == 2
    summary = load_summary(run)
    assert (summary["status"], summary["steps"]) == ("ok", steps)
    assert read_index(sweep)[0]["status"] == "ok"
    # One timeline: every logging step once, in order, across the requeued pieces.
    assert logged_steps(run) == list(range(50, steps + 1, 50))
    assert len(list(run.glob("events.out.tfevents.*[0-9]"))) == 3
