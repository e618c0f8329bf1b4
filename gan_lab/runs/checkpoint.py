"""Checkpoints: atomic writes, and loading that never runs code from the file."""

from __future__ import annotations

import os
import pickle
import re
import zipfile
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
    """Load with weights_only=True: tensors and plain containers only; anything else is refused.

    The error tells a corrupt or truncated file from an unsafe one (a sound file holding more than
    tensors) and names the newest intact checkpoint beside it to resume from instead.
    """
    if not path.is_file():
        raise UserError(f"checkpoint {path} does not exist")
    try:
        payload = _read(path, map_location)
    except UserError as error:
        raise UserError(f"{error}{_instead(path)}") from None
    return payload


def _read(path: Path, map_location) -> dict:
    try:
        payload = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as error:  # truncated, corrupt, unsafe or not a torch file at all: torch raises many kinds
        if isinstance(error, pickle.UnpicklingError) and _is_sound_archive(path) and "weights_only" in str(error).lower():
            found = re.search(r"Unsupported global: GLOBAL ([\w.]+)", str(error))
            what = f" ({found.group(1)})" if found else ""
            raise UserError(f"refusing to load {path}: unsafe, it holds more than tensors and plain values{what}") from None
        reason = "truncated" if _is_truncated_archive(path) else "corrupt, not a readable torch checkpoint"
        raise UserError(f"cannot read checkpoint {path}: {reason}") from None
    if not isinstance(payload, dict) or not {"G", "D", "step", "config"} <= set(payload):
        raise UserError(f"{path} is not a gan-lab checkpoint (expected a dict with G, D, step, config)")
    return payload


def _is_sound_archive(path: Path) -> bool:
    try:
        with zipfile.ZipFile(path) as archive:
            return archive.testzip() is None
    except (zipfile.BadZipFile, OSError, EOFError, ValueError):
        return False


def _is_truncated_archive(path: Path) -> bool:
    """A torch zip file cut short: it starts like one but its end (the central directory) is missing."""
    try:
        with open(path, "rb") as f:
            return f.read(4) == b"PK\x03\x04" and not _is_sound_archive(path)
    except OSError:
        return False


def newest_intact(folder: Path, other_than: Path | None = None) -> Path | None:
    """The newest step_*.pt in folder that loads safely and completely, or None."""
    for candidate in sorted(Path(folder).glob("step_*.pt"), reverse=True):
        if other_than is not None and candidate.resolve() == Path(other_than).resolve():
            continue
        try:
            _read(candidate, "cpu")
        except UserError:
            continue
        return candidate
    return None


def _instead(path: Path) -> str:
    intact = newest_intact(path.parent, other_than=path)
    if intact is None:
        return "; no intact checkpoint beside it"
    return f"; the newest intact checkpoint is {intact} (resume={intact})"


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
