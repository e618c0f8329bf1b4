"""How runs are ranked: by sample quality (FID, then KID) when they have it, never by a loss by default.

Shared by the sweep index (sweep.csv / sweep.json) and `gan-lab compare`; rows are index rows
(sweeps/index.py run_row). Runs that did not finish, or lack the value, go last in job order.
"""

from __future__ import annotations

import math

from gan_lab.errors import UserError
from gan_lab.runs.layout import FINISHED

HIGHER_IS_BETTER = {"img_per_s", "prob_D_fake", "steps", "precision", "recall", "inception_score"}
QUALITY = ("fid", "kid")  # the default ranking: the first of these the runs have
FALLBACK = "loss_G"  # only when no run has a quality metric (metrics.sweep_samples=0, nothing evaluated)


def value_of(row: dict, by: str):
    """A row's value for `by`: a final loss, img_per_s, wall_time_s, a metric, or a swept key."""
    if by in row and by not in ("params", "metrics"):
        return row[by]
    if by in row["metrics"]:
        return row["metrics"][by]
    for key, value in row["params"].items():
        if by in (key, key.rsplit(".", 1)[-1]):
            return value
    return None


def default_by(rows: list[dict]) -> str:
    """fid (or kid) when any run has it, else loss_G."""
    return next((m for m in QUALITY if any(value_of(r, m) is not None for r in rows)), FALLBACK)


def descending(by: str, order: str | None) -> bool:
    return (order or ("desc" if by in HIGHER_IS_BETTER else "asc")) == "desc"


def _as_number(value) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def rank(rows: list[dict], by: str, order: str | None = None, columns: set[str] = frozenset()) -> list[dict]:
    """Finished runs by `by` (order asc/desc, default by what is better), then the others.

    `columns` are the names `by` may take besides the runs' metrics and swept keys (for the error).
    """
    available = sorted(
        set(columns) | {k for r in rows for k in r["metrics"]} | {k.rsplit(".", 1)[-1] for r in rows for k in r["params"]}
    )
    if by not in available and all(value_of(row, by) is None for row in rows):
        raise UserError(f"--by {by} is not a column of these runs; choose one of {', '.join(available)}")
    down = descending(by, order)

    def key(row: dict):
        value = value_of(row, by)
        missing = row["status"] not in FINISHED or value is None or (isinstance(value, float) and not math.isfinite(value))
        if missing:
            return (1, 0, "")
        number = _as_number(value)
        if number is None:
            return (0, 0, str(value))
        return (0, -number if down else number, "")

    return sorted(rows, key=key)


def places(rows: list[dict], by: str) -> list[int | None]:
    """1, 2, ... for ranked rows that have a finite `by` value and finished; None for the rest."""
    out, place = [], 0
    for row in rows:
        value = _as_number(value_of(row, by))
        if row["status"] in FINISHED and value is not None and math.isfinite(value):
            place += 1
            out.append(place)
        else:
            out.append(None)
    return out


def features_of(rows: list[dict]) -> str | None:
    """The feature network(s) the runs' metrics were computed on, e.g. 'inception', or None."""
    found = list(dict.fromkeys(r.get("features") for r in rows if r.get("features")))
    return ", ".join(found) if found else None
