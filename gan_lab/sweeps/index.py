"""One row per run: swept values, status, error line, final losses, diagnoses, img/s, wall time, metrics.

Read only from the run directory (job.json of a sweep job, summary.json, diagnoses.json), so the
same rows serve the sweep index (`sweep.csv`, `sweep.json` at the sweep root) and `gan-lab compare`.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

from gan_lab.runs.layout import job_dirs

FINAL = ("loss_D", "loss_G", "prob_D_real", "prob_D_fake")
NOT_FINISHED = "no summary.json: the job did not finish (killed, crashed or still running)"


def read_json(path: Path) -> dict | list | None:
    """A JSON file's content, or None when it is missing or unreadable (half-written, corrupt)."""
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def read_diagnoses(run_dir: Path) -> list[str]:
    """Names of the failures the GAN doctor reported (diagnoses.json), e.g. ['d_wins@120']; tolerant of its shape."""
    data = read_json(run_dir / "diagnoses.json")
    if isinstance(data, dict):
        inner = next((data[k] for k in ("diagnoses", "events", "findings") if isinstance(data.get(k), list)), None)
        data = (
            inner
            if inner is not None
            else [{"name": k, **v} if isinstance(v, dict) else {"name": k} for k, v in data.items()]
        )
    found: dict[str, str] = {}
    for item in data if isinstance(data, list) else []:
        if isinstance(item, str):
            found.setdefault(item, item)
            continue
        if not isinstance(item, dict):
            continue
        name = next((str(item[k]) for k in ("name", "check", "detector", "id", "kind", "title") if item.get(k)), None)
        if name is None:
            continue
        state = str(item.get("state") or item.get("event") or item.get("status") or "").lower()
        if state in ("cleared", "clear", "ok", "resolved"):
            if name in found:
                found[name] += " (cleared)"
            continue
        step = item.get("step")
        if name in found:  # fired again after clearing
            found[name] = found[name].removesuffix(" (cleared)")
        else:
            found[name] = f"{name}@{step}" if isinstance(step, int) else name
    return list(found.values())


def _number(value) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def run_row(run_dir: Path) -> dict:
    """The index row of one run directory (a sweep job or a single run)."""
    run_dir = Path(run_dir)
    record = read_json(run_dir / "job.json")
    record = record if isinstance(record, dict) else {}
    summary = read_json(run_dir / "summary.json")
    summary = summary if isinstance(summary, dict) else None
    final = (summary or {}).get("final") or {}
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
        "metrics": {k: float(v) for k, v in ((summary or {}).get("metrics") or {}).items() if _number(v) is not None},
        "dir": str(run_dir),
    }
    if summary is not None:  # the run itself says how it ended
        row["status"], row["error"] = summary.get("status") or "ok", summary.get("error") or row["error"]
        if row["status"] == "ok" and any(v is not None and not math.isfinite(v) for v in (row[k] for k in FINAL)):
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


def write_index(sweep_dir: Path) -> list[dict]:
    """sweep.json and sweep.csv at the sweep root, one row per job; returns the rows."""
    sweep_dir = Path(sweep_dir)
    rows = [{**row, "dir": Path(row["dir"]).name} for row in sweep_rows(sweep_dir)]  # relative to the sweep root
    (sweep_dir / "sweep.json").write_text(json.dumps({"sweep": str(sweep_dir), "jobs": rows}, indent=2) + "\n")
    flats = [flat(row) for row in rows]
    head = ["job", "name", "status", "error"]
    params = list(dict.fromkeys(k for row in rows for k in row["params"]))
    rest = list(dict.fromkeys(k for f in flats for k in f if k not in head and k not in params and k != "dir"))
    with (sweep_dir / "sweep.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=[*head, *params, *rest, "dir"], restval="")
        writer.writeheader()
        writer.writerows(flats)
    return rows
