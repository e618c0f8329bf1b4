"""`torchrun --nproc_per_node=2 -m gan_lab train`: two CPU processes (gloo), one set of outputs."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import torch
from conftest import TINY
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from gan_lab.data.source import PreloadedImages


def test_two_gloo_processes_write_one_run(tmp_path):
    run_dir, scratch = tmp_path / "run", tmp_path / "scratch"
    scratch.mkdir()
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": "1", "TMPDIR": str(scratch)}
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
               "-m", "gan_lab", "train", *TINY, f"hydra.run.dir={run_dir}"]  # fmt: skip
    result = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "x 2 processes" in result.stdout and result.stdout.count("done: 4 steps") == 1
    assert len(list(run_dir.glob("events.out.tfevents.*"))) == 1
    acc = EventAccumulator(str(run_dir)).Reload()
    assert [e.step for e in acc.Scalars("loss/D")] == [2, 4]
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["processes"] == 2 and summary["steps"] == 4
    checkpoint = torch.load(run_dir / "checkpoints" / "step_000004.pt", weights_only=True)
    ranks = checkpoint["rng_ranks"]
    assert len(ranks) == 2 and not torch.equal(ranks[0]["torch"], ranks[1]["torch"])  # own noise per rank
    assert not (tmp_path / "outputs").exists()  # rank 1 wrote no run directory of its own
    assert not [p for p in scratch.iterdir() if p.name.startswith("gan-lab-rank")]


def test_ranks_draw_disjoint_shards_of_each_epoch():
    images = torch.arange(12, dtype=torch.uint8).view(12, 1, 1, 1)
    shards = [PreloadedImages(images, 3, seed=5, device=torch.device("cpu"), shard=(r, 2)) for r in range(2)]
    seen = [torch.cat([s.next_batch(), s.next_batch()]).flatten().tolist() for s in shards]
    assert not set(seen[0]) & set(seen[1]) and sorted(seen[0] + seen[1]) == list(range(12))
