"""Shared helpers: run the real CLI in a subprocess, and one small trained run for read-back tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

# A tiny but complete run: every output of a real run, in a few seconds on a CPU.
TINY = [
    "dataset.num_images=128",
    "dataset.image_size=16",
    "model.filters=8",
    "model.latent_dim=16",
    "trainer.batch_size=16",
    "trainer.steps=4",
    "trainer.log_every=2",
    "trainer.sample_every=2",
    "trainer.num_samples=16",
    "trainer.device=cpu",
]


def run_cli(*args: str, cwd: Path | None = None, env: dict | None = None, timeout: float = 300):
    """`python -m gan_lab <args>` in a subprocess; returns the CompletedProcess (text output)."""
    full_env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    full_env.pop("HYDRA_FULL_ERROR", None)
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "gan_lab", *args],
        cwd=cwd or REPO,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def train_tiny(run_dir: Path, *overrides: str, **kwargs):
    """A tiny real `gan-lab train` into run_dir; fails the test with the output if it fails."""
    result = run_cli("train", *TINY, *overrides, f"hydra.run.dir={run_dir}", **kwargs)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory) -> Path:
    """One finished tiny run shared by the tests that only read its outputs."""
    run_dir = tmp_path_factory.mktemp("tiny") / "run"
    train_tiny(run_dir)
    return run_dir
