"""One timeline per run: resuming from an older checkpoint moves the newer work aside, never deletes it.

Checkpoints and sample grids after the resumed step go to `abandoned/after_step_N_<time>/`, with a copy
of the event files as they were (the abandoned steps' TensorBoard records); the run's own event
files then show one timeline, since the new writer purges the records after step N (purge_step).
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

from gan_lab.runs.layout import (
    ABANDONED_BRANCH,
    ABANDONED_DIR,
    BEST_CHECKPOINT,
    BEST_RECORD,
    checkpoints,
    checkpoints_dir,
    sample_grids,
)


def step_of(path: Path) -> int | None:
    """N of step_NNNNNN.pt / .png, or None."""
    head, _, digits = Path(path).stem.partition("_")
    return int(digits) if head == "step" and digits.isdigit() else None


def _best_step(run_dir: Path) -> int | None:
    try:
        return int(json.loads((checkpoints_dir(run_dir) / BEST_RECORD).read_text())["step"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def newer_work(run_dir: Path, step: int) -> list[Path]:
    """The checkpoints and sample grids written after `step` (and best.pt when it comes from after it)."""
    found = [p for p in [*checkpoints(run_dir), *sample_grids(run_dir)] if (step_of(p) or 0) > step]
    best = _best_step(run_dir)
    if best is not None and best > step:
        found += [p for p in (checkpoints_dir(run_dir) / BEST_CHECKPOINT, checkpoints_dir(run_dir) / BEST_RECORD) if p.is_file()]
    return found


def abandon_after(run_dir: Path, step: int) -> Path | None:
    """Move the work after `step` into a new abandoned/ branch folder; returns it (None: nothing newer)."""
    run_dir = Path(run_dir)
    moving = newer_work(run_dir, step)
    if not moving:
        return None
    branch = run_dir / ABANDONED_DIR / ABANDONED_BRANCH.format(step=step, time=time.strftime("%Y%m%d-%H%M%S"))
    branch.mkdir(parents=True, exist_ok=False)
    for path in moving:
        target = branch / path.relative_to(run_dir)
        target.parent.mkdir(parents=True, exist_ok=True)
        path.replace(target)
    for events in run_dir.glob("events.out.tfevents.*"):
        shutil.copy2(events, branch / events.name)  # the abandoned steps' records, as they were
    return branch
