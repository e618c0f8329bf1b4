"""Helpers for the tests of the commands that read a trained run (generate, evaluate, interpolate, probe)."""

from __future__ import annotations

import shutil
import struct
from pathlib import Path

import numpy as np
import pytest

from gan_lab.cli import main as cli_main

FEATURES = "metrics.features=gan_lab.metrics.features.RandomConvFeatures"


def copy_run(run_dir: Path, tmp_path: Path) -> Path:
    """A private copy of a shared run, so that a command's outputs never leak into other tests."""
    copy = tmp_path / "run"
    shutil.copytree(run_dir, copy)
    return copy


def command(*args: str) -> int:
    """The real CLI entry point, in this process (one torch import for all these tests)."""
    return cli_main(list(args))


def failing(capsys, *args: str) -> str:
    """Run a command that must fail with exit code 2; returns its stderr (one line expected)."""
    with pytest.raises(SystemExit) as exit_info:
        cli_main(list(args))
    assert exit_info.value.code == 2
    return capsys.readouterr().err


def write_patterned_mnist(root: Path, n_train: int = 300, n_test: int = 100, seed: int = 0) -> None:
    """MNIST files in the real IDX format whose classes are learnable: class k is a bright bar at row 2k + 4,
    plus noise. torchvision's MNIST class reads them."""
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for split, n in (("train", n_train), ("t10k", n_test)):
        labels = (np.arange(n) % 10).astype(np.uint8)
        images = rng.integers(0, 60, (n, 28, 28)).astype(np.uint8)
        for i, label in enumerate(labels):
            images[i, 2 * label + 4 : 2 * label + 7, 4:24] = 255
        (raw / f"{split}-images-idx3-ubyte").write_bytes(struct.pack(">IIII", 2051, n, 28, 28) + images.tobytes())
        (raw / f"{split}-labels-idx1-ubyte").write_bytes(struct.pack(">II", 2049, n) + labels.tobytes())
