"""How gan-lab's training throughput and memory scale: the README's scaling tables.

    uv run python -m benchmarks.scaling            # about 10 minutes on 2 CPU cores
    uv run python -m benchmarks.scaling --quick    # a smoke run

1. img/s of the default DCGAN against batch size (32 to 512, at 32 px) and image size (32, 64, 128 px).
2. Peak memory of a run against dataset size (uint8 images preloaded in memory), one process each.
3. A folder above the preload budget (streamed by DataLoader workers) against the same folder in memory.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import torch

from benchmarks.train_speed import GanLabLoop, image_root, machine_line, measure


# The model every table measures (pinned: the first-run default is lighter), as in the README's tables.
MODEL = ["model.filters=64", "model.ema_decay=null"]


def throughput(overrides: list[str], folder: Path | None, steps: int, warmup: int, scratch: Path) -> float:
    """Steady-state img/s of gan-lab's trainer for these overrides (shapes data unless a folder is given)."""
    data = ["dataset=image_folder", f"dataset.path={folder}"] if folder else ["dataset=shapes", "dataset.num_images=2048"]
    loop = GanLabLoop([*data, *MODEL, *overrides], "cpu", scratch / "run", log_every=50)
    batch_size = loop.cfg.trainer.batch_size
    measure(loop, warmup, batch_size, loop.sync)
    rate = measure(loop, steps, batch_size, loop.sync)
    loop.close()
    return rate


def peak_memory_of_a_run(num_images: int, image_size: int, scratch: Path) -> float:
    """Peak RSS (MB) of a real `gan-lab train` of a few steps on that many preloaded shapes.

    RUSAGE_CHILDREN holds the largest child so far: call this with growing sizes, before anything
    else starts child processes.
    """
    import resource

    args = ["train", f"dataset.num_images={num_images}", f"dataset.image_size={image_size}", "trainer.steps=3",
            "trainer.batch_size=64", "trainer.device=cpu", *MODEL, f"hydra.run.dir={scratch / f'mem_{num_images}'}"]  # fmt: skip
    subprocess.run([sys.executable, "-m", "gan_lab", *args], capture_output=True, check=True)
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run: fewer settings and steps")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    steps, warmup = (2, 1) if args.quick else (6, 2)
    batches = [32, 512] if args.quick else [32, 64, 128, 256, 512]
    sizes = [32] if args.quick else [32, 64, 128]
    counts = [1000] if args.quick else [1000, 10000, 50000]
    results: dict = {"batch_size": {}, "image_size": {}, "memory_mb": {}, "streaming": {}}
    with tempfile.TemporaryDirectory(prefix="gan-lab-scaling-") as tmp:
        scratch = Path(tmp)
        print(machine_line(torch.device("cpu")))
        print("peak memory against dataset size (64 px RGB shapes preloaded as uint8)")
        for count in counts:
            peak = peak_memory_of_a_run(count, 64, scratch)
            results["memory_mb"][count] = peak
            print(f"  {count:6d} images ({count * 3 * 64 * 64 / 2**20:5.0f} MB of pixels): peak RSS {peak:,.0f} MB")
        print("img/s against batch size (DCGAN, filters 64, 32 px, shapes in memory)")
        for batch in batches:
            rate = throughput(["dataset.image_size=32", f"trainer.batch_size={batch}"], None, steps, warmup, scratch)
            results["batch_size"][batch] = rate
            print(f"  batch {batch:4d}: {rate:8,.0f} img/s")
        print("img/s against image size (batch 64)")
        for size in sizes:
            rate = throughput([f"dataset.image_size={size}", "trainer.batch_size=64"], None, steps, warmup, scratch)
            results["image_size"][size] = rate
            print(f"  {size:4d} px: {rate:8,.0f} img/s")
        print("image folder at 64 px: preloaded against streamed (trainer.preload_max_mb=0, 2 workers)")
        folder = image_root("frogs", scratch) / "images"
        common = ["dataset.image_size=64", "trainer.batch_size=64"]
        for mode, extra in (("preloaded", []), ("streamed", ["trainer.preload_max_mb=0"])):
            rate = throughput([*common, *extra], folder, steps, warmup, scratch)
            results["streaming"][mode] = rate
            print(f"  {mode:9s}: {rate:8,.0f} img/s")
        ratio = results["streaming"]["streamed"] / results["streaming"]["preloaded"]
        print(f"  streamed / preloaded = {ratio:.2f} (target: within 20%, i.e. >= 0.80)")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
