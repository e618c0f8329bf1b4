"""Reading a run directory: the contract between `train` and every command after it.

A run directory holds `.hydra/config.yaml`, TensorBoard event files, `checkpoints/`, `samples/`
and `summary.json`. A sweep directory holds one run directory per job (plus `multirun.yaml`).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from gan_lab.errors import UserError


def display_path(path: Path) -> str:
    """The path as the user would type it: relative to the working directory when inside it."""
    try:
        return os.path.relpath(path) if Path(path).resolve().is_relative_to(Path.cwd()) else str(path)
    except ValueError:
        return str(path)


def is_run_dir(path: Path) -> bool:
    return (path / ".hydra" / "config.yaml").is_file()


def is_sweep_dir(path: Path) -> bool:
    return (path / "multirun.yaml").is_file() or (not is_run_dir(path) and bool(job_dirs(path)))


def job_dirs(sweep_dir: Path) -> list[Path]:
    """The run directories of a sweep, in job-number order."""
    jobs = [p for p in sweep_dir.iterdir() if p.is_dir() and is_run_dir(p)] if sweep_dir.is_dir() else []

    def job_number(p: Path) -> tuple[int, str]:
        head = p.name.split("_", 1)[0]
        return (int(head) if head.isdigit() else 1 << 30, p.name)

    return sorted(jobs, key=job_number)


def require_run_dir(path: Path | str) -> Path:
    """The path as a run directory, or a one-line error saying what was expected."""
    path = Path(path)
    if not path.exists():
        raise UserError(f"{path} does not exist; give a run directory such as outputs/train/<date>/<time>")
    if not is_run_dir(path):
        raise UserError(f"{path} is not a gan-lab run directory (no .hydra/config.yaml inside)")
    return path


def load_run_config(run_dir: Path) -> DictConfig:
    """The composed config the run trained with."""
    return OmegaConf.load(require_run_dir(run_dir) / ".hydra" / "config.yaml")


def checkpoints(run_dir: Path) -> list[Path]:
    """Step checkpoints of a run, oldest first (best.pt and other names excluded)."""
    return sorted((run_dir / "checkpoints").glob("step_*.pt"))


def latest_checkpoint(run_dir: Path) -> Path:
    found = checkpoints(run_dir)
    if not found:
        raise UserError(f"{run_dir} has no checkpoints/step_*.pt; train it first or give checkpoint=<file>")
    return found[-1]


def load_summary(run_dir: Path) -> dict | None:
    """summary.json of a run that ended ("status": ok, interrupted, diverged or stopped_by_doctor), or None."""
    path = run_dir / "summary.json"
    return json.loads(path.read_text()) if path.is_file() else None


def read_scalars(run_dir: Path) -> dict[str, list[tuple[int, float]]]:
    """Every scalar of the run's event files: tag -> [(step, value), ...]."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(run_dir), size_guidance={"scalars": 0})
    acc.Reload()
    return {tag: [(e.step, e.value) for e in acc.Scalars(tag)] for tag in acc.Tags()["scalars"]}
