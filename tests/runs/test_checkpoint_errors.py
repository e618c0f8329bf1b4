"""Checkpoint errors tell corrupt from truncated from unsafe, and name the newest intact checkpoint."""

from __future__ import annotations

import os
import shutil

import pytest
import torch

from gan_lab.errors import UserError
from gan_lab.runs.checkpoint import load_checkpoint, newest_intact


class Unsafe:
    """An object weights_only=True refuses (a plain class, not a tensor)."""


@pytest.fixture
def folder(tmp_path):
    good = {"G": {"w": torch.zeros(2)}, "D": {"w": torch.ones(2)}, "step": 2, "config": {}}
    torch.save(good, tmp_path / "step_000002.pt")
    return tmp_path


def refusal(path) -> str:
    before = {p.name: p.read_bytes() for p in path.parent.iterdir()}
    with pytest.raises(UserError) as caught:
        load_checkpoint(path)
    assert {p.name: p.read_bytes() for p in path.parent.iterdir()} == before, "nothing overwritten"
    message = str(caught.value)
    assert "\n" not in message and str(path) in message
    assert f"newest intact checkpoint is {path.parent / 'step_000002.pt'}" in message
    return message


def test_random_bytes_are_corrupt_not_unsafe(folder):
    bad = folder / "step_000004.pt"
    bad.write_bytes(os.urandom(4096))
    message = refusal(bad)
    assert "corrupt" in message and "unsafe" not in message and "weights_only" not in message


def test_truncated(folder):
    bad = folder / "step_000004.pt"
    shutil.copy(folder / "step_000002.pt", bad)
    bad.write_bytes(bad.read_bytes()[: bad.stat().st_size // 2])
    assert "truncated" in refusal(bad)


def test_unsafe(folder):
    bad = folder / "step_000004.pt"
    torch.save({"G": Unsafe(), "D": {}, "step": 4, "config": {}}, bad)
    message = refusal(bad)
    assert "unsafe" in message and "corrupt" not in message


def test_no_intact_neighbour(tmp_path):
    bad = tmp_path / "step_000004.pt"
    bad.write_bytes(b"\0" * 100)
    with pytest.raises(UserError, match="no intact checkpoint beside it"):
        load_checkpoint(bad)
    assert newest_intact(tmp_path) is None
