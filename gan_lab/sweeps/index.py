"""One row per run: swept values, status, error line, final losses, diagnoses, img/s, wall time, metrics.

Read only from the run directory (job.json of a sweep job, summary.json, diagnoses.json, metrics.json),
so the same rows serve the sweep index (`sweep.csv`, `sweep.json` at the sweep root) and `gan-lab compare`.
The index is ranked by FID (sweeps/ranking.py) when the jobs have it, with a `rank` column and the
`features` the metrics were computed on; the final losses stay as columns.
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

from gan_lab.runs.layout import (
    FINISHED,
    diagnoses_file,
    job_dirs,
    load_job_record,
    load_metrics,
    load_summary,
    read_json,
    write_sweep_index,
)
from gan_lab.sweeps.ranking import QUALITY, default_by, places, rank

FINAL = ("loss_D", "loss_G", "prob_D_real", "prob_D_fake")
NOT_FINISHED = "no summary.json: the job did not finish (killed, crashed or still running)"
# A job record's status set by the SLURM launcher from SLURM's end state (hydra_plugins/gan_lab_launcher/slurm.py;
# any other state: failed). It says why the run's own summary says it stopped on a signal (scancel sends SIGTERM).
SCHEDULER_STATUS = {"CANCELLED": "cancelled", "TIMEOUT": "timeout", "DEADLINE": "timeout",
                    "OUT_OF_MEMORY": "out_of_memory", "NODE_FAIL": "node_fail", "PREEMPTED": "preempted"}
SCHEDULER_ENDS = tuple(dict.fromkeys(SCHEDULER_STATUS.values()))
STOPPED_BY_SIGNAL = ("interrupted", "preempted")  # summary.json statuses of a run that saved and stopped on a signal


def read_diagnoses(run_dir: Path) -> list[str]:
    """The checks the GAN doctor fired in diagnoses.json, e.g. ['mode_collapse@100', 'd_wins@40 (cleared)'].

    A missing or unreadable file gives []; the doctor writes {"events": [{"check", "state", "step"}, ...]}.
    """
    data = read_json(diagnoses_file(run_dir))
    events = data.get("events") if isinstance(data, dict) else None
    found: dict[str, str] = {}
    for event in events if isinstance(events, list) else []:
        if not isinstance(event, dict) or not event.get("check"):
            continue
        name = str(event["check"])
        if event.get("state") == "cleared":
            if name in found:
                found[name] += " (cleared)"
        elif name in found:  # fired again after clearing
            found[name] = found[name].removesuffix(" (cleared)")
        else:
            step = event.get("step")
            found[name] = f"{name}@{step}" if isinstance(step, int) else name
    return list(found.values())


def _number(value) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def run_row(run_dir: Path) -> dict:
    """The index row of one run directory (a sweep job or a single run)."""
    run_dir = Path(run_dir)
    record = load_job_record(run_dir) or {}
    summary = load_summary(run_dir)
    final = (summary or {}).get("final") or {}
    metrics = load_metrics(run_dir) or {}
    row = {
        "job": record.get("job"),
        "name": record.get("name") or run_dir.name,
        "params": record.get("params") or {},
        "status": record.get("status"),
        "error": record.get("error"),
        "steps": (summary or {}).get("steps"),
        **{key: _number(final.get(key)) for key in FINAL},
        "img_per_s": _number((summary or {}).get("img_per_s")),
        "wall_time_s": _number((summary or {}).get("wall_time_s")),
        "job_time_s": _number(record.get("job_time_s")),
        "diagnoses": read_diagnoses(run_dir),
        "metrics": {k: v for k, v in metrics.items() if isinstance(v, float)},  # the scores, not the record
        "features": metrics.get("features"),  # the feature network of fid / kid / precision / recall
        "dir": str(run_dir),
    }
    scheduler_ended = row["status"] in SCHEDULER_ENDS and (summary or {}).get("status") in STOPPED_BY_SIGNAL
    if summary is not None and not scheduler_ended:  # the run itself says how it ended
        row["status"], row["error"] = summary.get("status") or "ok", summary.get("error") or row["error"]
        if row["status"] in FINISHED and any(v is not None and not math.isfinite(v) for v in (row[k] for k in FINAL)):
            row["status"], row["error"] = "diverged", "non-finite final losses"
    elif row["status"] in (None, "ok"):
        row["status"], row["error"] = "failed", row["error"] or NOT_FINISHED
    return row


def sweep_rows(sweep_dir: Path) -> list[dict]:
    """Rows of every job of a sweep, in job-number order."""
    return [run_row(job) for job in job_dirs(Path(sweep_dir))]


def flat(row: dict) -> dict:
    """A row as flat CSV columns: swept params and metrics become their own columns."""
    out = {k: v for k, v in row.items() if k not in ("params", "metrics", "diagnoses")}
    out.update(row["params"])
    out.update({f"metric.{k}": v for k, v in row["metrics"].items()})
    out["diagnoses"] = "; ".join(row["diagnoses"])
    return out


def ranked(rows: list[dict]) -> tuple[list[dict], str | None]:
    """Rows by FID (or KID), each with its `rank` (None: unfinished or unscored), and the metric; job order without one."""
    by = default_by(rows)
    if by not in QUALITY:
        return [{"rank": None, **row} for row in rows], None
    rows = rank(rows, by)
    return [{"rank": place, **row} for place, row in zip(places(rows, by), rows)], by


def write_index(sweep_dir: Path) -> list[dict]:
    """sweep.json and sweep.csv at the sweep root, one row per job, best FID first; returns the rows."""
    sweep_dir = Path(sweep_dir)
    rows = [{**row, "dir": Path(row["dir"]).name} for row in sweep_rows(sweep_dir)]  # relative to the sweep root
    rows, by = ranked(rows)
    flats = [flat(row) for row in rows]
    head = ["rank", "job", "name", "status", "error"]
    params = list(dict.fromkeys(k for row in rows for k in row["params"]))
    scores = [f"metric.{k}" for k in ("fid", "kid", "precision", "recall") if any(f"metric.{k}" in f for f in flats)]
    first = [*head, *params, *scores, "features"]
    rest = list(dict.fromkeys(k for f in flats for k in f if k not in first and k != "dir"))
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=[*first, *rest, "dir"], restval="")
    writer.writeheader()
    writer.writerows(flats)
    write_sweep_index(sweep_dir, {"sweep": str(sweep_dir), "ranked_by": by, "jobs": rows}, text.getvalue())
    return rows
