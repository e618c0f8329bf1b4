"""`torchrun --nproc_per_node=2 -m gan_lab train`: two CPU processes (gloo), one set of outputs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap

import torch
from conftest import TINY
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from gan_lab.data.source import PreloadedImages


# the modern recipe's parts (R3GAN's loss and penalties, on every D step; ADA) must work under torchrun too
MODERN = ["loss=rpgan", "reg=r1_r2", "reg.every=1", "augment=ada", "augment.p=0.2"]


def test_two_gloo_processes_write_one_run(tmp_path):
    run_dir, scratch = tmp_path / "run", tmp_path / "scratch"
    scratch.mkdir()
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": "1", "TMPDIR": str(scratch)}
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
               "-m", "gan_lab", "train", *TINY, *MODERN, f"hydra.run.dir={run_dir}"]  # fmt: skip
    result = _run_killing_all_on_timeout(command, tmp_path, env, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "x 2 processes" in result.stdout and result.stdout.count("done: 4 steps") == 1
    assert len(list(run_dir.glob("events.out.tfevents.*"))) == 1
    acc = EventAccumulator(str(run_dir)).Reload()
    assert [e.step for e in acc.Scalars("loss/D")] == [2, 4]
    assert len(acc.Scalars("augment/p")) == 2 and all(e.value == e.value for e in acc.Scalars("loss/D"))
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["processes"] == 2 and summary["steps"] == 4
    checkpoint = torch.load(run_dir / "checkpoints" / "step_000004.pt", weights_only=True)
    assert abs(checkpoint["augment"]["p"] - acc.Scalars("augment/p")[-1].value) < 1e-6
    assert checkpoint["reg"]["d_steps"] == 4
    ranks = checkpoint["rng_ranks"]
    assert len(ranks) == 2 and not torch.equal(ranks[0]["torch"], ranks[1]["torch"])  # own noise per rank
    assert not (tmp_path / "outputs").exists()  # rank 1 wrote no run directory of its own
    assert not [p for p in scratch.iterdir() if p.name.startswith("gan-lab-rank")]


def _run_killing_all_on_timeout(command, cwd, env, timeout):
    """subprocess.run, but a hang kills torchrun and both workers and reports what they printed."""
    process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, start_new_session=True)  # fmt: skip
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        stdout, stderr = process.communicate()
        raise AssertionError(f"torchrun still running after {timeout} s:\n{stdout}{stderr}") from None
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


def test_ranks_draw_disjoint_shards_of_each_epoch():
    images = torch.arange(12, dtype=torch.uint8).view(12, 1, 1, 1)
    shards = [PreloadedImages(images, 3, seed=5, device=torch.device("cpu"), shard=(r, 2)) for r in range(2)]
    seen = [torch.cat([s.next_batch(), s.next_batch()]).flatten().tolist() for s in shards]
    assert not set(seen[0]) & set(seen[1]) and sorted(seen[0] + seen[1]) == list(range(12))


# Run by two gloo processes: what every rank must agree on, printed one line per rank.
AGREEMENT = textwrap.dedent("""
    import torch, torch.distributed as dist, torch.nn as nn
    from gan_lab.errors import RunStopped
    from gan_lab.training import distributed
    from gan_lab.training.nonfinite import NonFiniteGuard

    dist.init_process_group("gloo")
    rank, cpu = dist.get_rank(), torch.device("cpu")
    world = distributed.World(rank, 2, rank)
    # D with BatchNorm called on a real and a generated batch before one backward (DCGAN's D step)
    torch.manual_seed(rank)
    D = nn.Sequential(nn.Linear(4, 4), nn.BatchNorm1d(4), nn.Linear(4, 1))
    D = distributed.wrap(D, world, cpu, broadcast_buffers=False)
    (D(torch.randn(8, 4)).mean() - D(torch.randn(8, 4)).mean()).backward()
    distributed.sync_buffers(D.module)
    stats = D.module[1].running_mean.clone()
    dist.broadcast(stats, src=0)
    synced = torch.equal(stats, D.module[1].running_mean)
    # skip_step: only rank 0's loss is non-finite
    guard = NonFiniteGuard("skip_step", {"D": D.module}, cpu)
    loss = torch.tensor(float("nan") if rank == 0 else 1.0)
    allowed = guard.update_allowed(loss, D.module, torch.optim.SGD(D.parameters()))
    # a checkpoint on a non-logging step: only rank 1 saw a non-finite loss (at step 3)
    stop = NonFiniteGuard("stop", {"D": D.module}, cpu)
    stop.first.fill_(3 if rank == 1 else -1)
    try:
        stop.check_weights(5, None)
        checkpoint = "saved"
    except RunStopped as error:
        checkpoint = str(error).split(";")[0]
    print(f"rank {rank}: synced={synced} allowed={allowed} checkpoint={checkpoint}", flush=True)
    dist.barrier()  # as distributed.finish does: leaving while the other rank still talks can abort at exit
    dist.destroy_process_group()
""")


def test_ranks_agree_on_skipped_steps_checkpoints_and_batchnorm_statistics(tmp_path):
    script = tmp_path / "agreement.py"
    script.write_text(AGREEMENT)
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", str(script)]
    result = _run_killing_all_on_timeout(command, tmp_path, env, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    for rank in range(2):
        assert f"rank {rank}: synced=True allowed=False checkpoint=non-finite loss at step 3" in result.stdout
