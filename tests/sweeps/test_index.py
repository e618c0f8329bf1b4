"""Index rows read from run directories: status, errors, diagnoses, CSV and JSON at the sweep root."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from gan_lab.sweeps.index import NOT_FINISHED, read_diagnoses, run_row, write_index

FINAL = {"loss_D": 0.5, "loss_G": 1.5, "prob_D_real": 0.8, "prob_D_fake": 0.3}


def make_job(
    sweep: Path, name: str, record: dict | None = None, summary: dict | None = None, metrics: dict | None = None
) -> Path:
    job = sweep / name
    (job / ".hydra").mkdir(parents=True)
    (job / ".hydra" / "config.yaml").write_text("model: {}\n")
    if record is not None:
        (job / "job.json").write_text(json.dumps(record))
    if summary is not None:
        (job / "summary.json").write_text(json.dumps(summary))
    if metrics is not None:  # as `gan-lab evaluate` writes it: the record, then the scores
        (job / "metrics.json").write_text(json.dumps({"checkpoint": "checkpoints/step_000030.pt", "step": 30, **metrics}))
    return job


def record(num: int, status: str = "ok", error: str | None = None) -> dict:
    params = {"model.kernel_size": str(3 + num), "model.filters": "16"}
    return {"job": num, "name": f"kernel_size={3 + num},filters=16", "params": params, "status": status, "error": error}


DOCTOR_EVENTS = {  # the shape the GAN doctor writes (doctor/monitor.py)
    "events": [
        {"check": "mode_collapse", "state": "fired", "step": 100, "evidence": "..."},
        {"check": "d_wins", "state": "fired", "step": 40},
        {"check": "d_wins", "state": "cleared", "step": 80},
        {"check": "checkerboard", "state": "fired", "step": 20},
        {"check": "checkerboard", "state": "cleared", "step": 30},
        {"check": "checkerboard", "state": "fired", "step": 60},
    ],
    "active": ["mode_collapse", "checkerboard"],
}


def test_diagnoses_name_fired_checks_with_their_first_step(tmp_path):
    (tmp_path / "diagnoses.json").write_text(json.dumps(DOCTOR_EVENTS))
    assert read_diagnoses(tmp_path) == ["mode_collapse@100", "d_wins@40 (cleared)", "checkerboard@20"]


@pytest.mark.parametrize(
    "content",
    [["d_wins"], "not what we expect", {"events": "d_wins"}, {"events": [{"state": "fired", "step": 3}, 7]}],
    ids=["a_list", "a_string", "events_not_a_list", "events_without_check"],
)
def test_diagnoses_of_another_shape_give_none(tmp_path, content):
    (tmp_path / "diagnoses.json").write_text(json.dumps(content))
    assert read_diagnoses(tmp_path) == []


def test_missing_or_corrupt_diagnoses_give_none(tmp_path):
    assert read_diagnoses(tmp_path) == []
    (tmp_path / "diagnoses.json").write_text("{half a fi")
    assert read_diagnoses(tmp_path) == []


def test_row_status_comes_from_the_run(tmp_path):
    ok = run_row(
        make_job(tmp_path, "0_a", record(0), {"steps": 30, "final": FINAL, "img_per_s": 900.0, "wall_time_s": 2.5})
    )
    assert (ok["status"], ok["loss_G"], ok["img_per_s"], ok["steps"]) == ("ok", 1.5, 900.0, 30)
    failed = run_row(make_job(tmp_path, "1_b", record(1, "failed", "model.kernel_size=9 is not allowed")))
    assert (failed["status"], failed["error"], failed["loss_G"]) == (
        "failed",
        "model.kernel_size=9 is not allowed",
        None,
    )
    nan = {"steps": 30, "final": {**FINAL, "loss_D": float("nan")}}
    assert run_row(make_job(tmp_path, "2_c", record(2), nan))["status"] == "diverged"
    stopped = {"status": "diverged", "error": "non-finite loss/D at step 12", "steps": 12, "final": FINAL}
    assert run_row(make_job(tmp_path, "3_d", record(3), stopped))["error"] == "non-finite loss/D at step 12"
    crashed = run_row(make_job(tmp_path, "4_e"))  # killed before anything was recorded
    assert (crashed["status"], crashed["error"], crashed["name"]) == ("failed", NOT_FINISHED, "4_e")


def test_the_schedulers_verdict_names_why_a_run_stopped_on_a_signal(tmp_path):
    """scancel: SLURM says cancelled, the run says interrupted (it saved and stopped): the row says cancelled."""
    interrupted = {"status": "interrupted", "error": "stopped by SIGTERM at step 7/100", "steps": 7, "final": FINAL}
    cancelled = record(0, "cancelled", "SLURM job 3_0 ended CANCELLED by 0 without a result (log: ...)")
    row = run_row(make_job(tmp_path, "0_a", cancelled, interrupted))
    assert (row["status"], row["error"], row["steps"]) == ("cancelled", cancelled["error"], 7)
    # a signal SLURM did not end the job for (scancel --signal=TERM): the job's own word stands
    signalled = record(1, "failed", "SLURM job 3_1 ended FAILED without a result (log: ...)")
    assert run_row(make_job(tmp_path, "1_b", signalled, interrupted))["status"] == "interrupted"
    # cancelled after it had finished: it finished
    finished = run_row(make_job(tmp_path, "2_c", record(2, "cancelled", "..."), {"steps": 100, "final": FINAL}))
    assert finished["status"] == "ok"
    timed_out = run_row(make_job(tmp_path, "3_d", record(3, "timeout", "SLURM job 3_3 ended TIMEOUT ...")))
    assert timed_out["status"] == "timeout"


def test_index_has_a_row_per_job_with_swept_columns(tmp_path):
    make_job(tmp_path, "0_kernel_size=3,filters=16", record(0), {"steps": 30, "final": FINAL}, {"fid": 80.5})
    make_job(tmp_path, "1_kernel_size=4,filters=16", record(1, "failed", "boom"))
    rows = write_index(tmp_path)
    assert [r["status"] for r in rows] == ["ok", "failed"]
    with (tmp_path / "sweep.csv").open() as handle:
        table = list(csv.DictReader(handle))
    assert [r["model.kernel_size"] for r in table] == ["3", "4"]
    assert table[0]["metric.fid"] == "80.5" and table[1]["error"] == "boom"
    assert table[0]["dir"] == "0_kernel_size=3,filters=16"
    index = json.loads((tmp_path / "sweep.json").read_text())
    assert [job["name"] for job in index["jobs"]] == ["kernel_size=3,filters=16", "kernel_size=4,filters=16"]
