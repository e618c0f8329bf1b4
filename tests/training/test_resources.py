"""Sizes that cannot be allocated are refused before training, fast; every preset passes."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from conftest import REPO, TINY, run_cli

from gan_lab.config import preflight
from gan_lab.errors import UserError
from gan_lab.training.resources import check_resources, estimate

PRESETS = sorted(p.stem for p in (REPO / "conf" / "experiment").glob("*.yaml"))


def test_huge_filters_refused_in_one_line_before_anything_is_written(tmp_path):
    started = time.perf_counter()
    result = run_cli("train", *TINY[:-1], "model.filters=100000", "trainer.device=cpu", cwd=tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    lines = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    assert len(lines) == 1 and "GiB" in lines[0] and "RAM available" in lines[0], lines
    assert list(tmp_path.iterdir()) == [], "no run directory"
    assert time.perf_counter() - started < 10


@pytest.mark.parametrize("preset", PRESETS)
def test_presets_pass_in_milliseconds(preset):
    cfg = preflight.compose_config([f"experiment={preset}"])
    estimate(cfg)  # first build imports the model modules
    started = time.perf_counter()
    check_resources(cfg, Path.cwd())
    assert time.perf_counter() - started < 1.0


def test_checkpoints_larger_than_the_disk_are_refused(monkeypatch):
    import shutil

    monkeypatch.setattr(shutil, "disk_usage", lambda _p: shutil._ntuple_diskusage(1 << 30, 1 << 30, 1000))
    with pytest.raises(UserError, match="free on disk"):
        check_resources(preflight.compose_config([]), Path.cwd())
