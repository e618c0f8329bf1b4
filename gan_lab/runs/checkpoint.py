"""Checkpoints: atomic writes, and loading that never runs code from the file."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import torch
import torch.nn as nn

from gan_lab.errors import UserError


def save_atomic(payload: dict, path: Path) -> None:
    """Write to a temporary file, fsync, then rename: a crash leaves the old file or the new, never half.

    A failed write (disk full, permissions) removes the partial file and raises a UserError; files
    already there are untouched.
    """
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "wb") as f:
            torch.save(payload, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as error:
        raise UserError(f"could not write checkpoint {path}: {error.strerror or error}; earlier checkpoints are intact") from error
    finally:
        tmp.unlink(missing_ok=True)
    _fsync_dir(path.parent)


def prune_checkpoints(folder: Path, keep: int) -> list[Path]:
    """Delete all but the newest `keep` step_*.pt files (keep=0 keeps all), and temporary files left by a
    killed save; returns what was deleted."""
    found = sorted(folder.glob("step_*.pt"))
    doomed = (found[:-keep] if keep > 0 else []) + sorted(folder.glob(".step_*.pt.tmp"))
    for path in doomed:
        path.unlink(missing_ok=True)
    return doomed


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def load_checkpoint(path: Path, map_location: str | torch.device = "cpu") -> dict:
    """Load with weights_only=True: tensors and plain containers only; anything else is refused."""
    if not path.is_file():
        raise UserError(f"checkpoint {path} does not exist")
    try:
        payload = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else "not a tensor-only file"
        raise UserError(f"refusing to load {path}: it holds more than tensors and plain values ({first})") from None
    except Exception as error:  # truncated, corrupt or not a torch file at all: torch raises many kinds
        reason = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise UserError(f"cannot read checkpoint {path}: {reason}") from None
    if not isinstance(payload, dict) or not {"G", "D", "step", "config"} <= set(payload):
        raise UserError(f"{path} is not a gan-lab checkpoint (expected a dict with G, D, step, config)")
    return payload


def load_module_state(module: nn.Module, state: dict, name: str, path: Path) -> None:
    """load_state_dict with a one-line error naming the missing, unexpected and mis-shaped entries."""
    own = module.state_dict()
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    reshaped = [
        f"{k} {tuple(state[k].shape)} vs {tuple(v.shape)}"
        for k, v in own.items()
        if k in state and hasattr(state[k], "shape") and tuple(state[k].shape) != tuple(v.shape)
    ]
    problems = [
        f"{label}: {', '.join(items[:4])}{' ...' if len(items) > 4 else ''}"
        for label, items in (("shape (checkpoint vs model)", reshaped), ("missing", missing), ("unexpected", unexpected))
        if items
    ]
    if problems:
        raise UserError(f"{path}: {name} was saved from a different model config; " + "; ".join(problems))
    module.load_state_dict(state)
