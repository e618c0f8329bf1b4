"""Training throughput of gan-lab against the PyTorch DCGAN example's loop, on the same layers and data.

    uv run python -m benchmarks.train_speed            # every case, about 10 minutes on 2 CPU cores
    uv run python -m benchmarks.train_speed --quick    # a smoke run: few steps, numbers not meaningful
    uv run python -m benchmarks.train_speed --cases a --device cuda
    GAN_LAB_FP32=1 uv run python -m benchmarks.train_speed --cases b trainer.channels_last=false   # fp32, an override
    GAN_LAB_FP32=1 uv run python -m benchmarks.train_speed --cases b --profile   # where each loop's time goes

For each case both loops train copies of the same G and D on the same images, interleaved in rounds
within one process so that machine noise hits both alike; each reports its median img/s over the
rounds after warm-up, and the ratio gan-lab / reference. Also: the model's training FLOPs per image,
the GFLOP/s each loop achieves, a matmul peak measured in the same run, gan-lab's step-time breakdown
(data, D step, G step, logging) from torch.profiler labels, and peak memory. `--profile` adds both
loops' CPU time by kind of operator and the ratio's ceiling (benchmarks/op_profile.py).
"""

from __future__ import annotations

import argparse
import gzip
import os

os.environ.setdefault("KINETO_LOG_LEVEL", "5")  # the profiler's start/stop chatter
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from benchmarks.op_profile import ms_per_step_by_kind, profile_lines
from benchmarks.reference import ReferenceLoop

SHARED_DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"


@dataclass
class Case:
    name: str
    what: str
    overrides: list[str]
    data: str  # "frogs" or "digits"
    target: float  # the ratio gan-lab / reference to reach on a 2-core CPU
    batch_size: int = field(init=False)

    def __post_init__(self):
        self.batch_size = int(next(o for o in self.overrides if o.startswith("trainer.batch_size=")).split("=")[1])


CASES = {
    "a": Case("a", "DCGAN 64 px, filters 64, batch 64, frog image folder",
              ["model=dcgan", "dataset.image_size=64", "dataset.channels=3", "model.filters=64", "trainer.batch_size=64"],
              "frogs", 1.3),
    "b": Case("b", "DCGAN 32 px, 1 channel, filters 32, batch 64 (MNIST-sized)",
              ["model=dcgan", "dataset.image_size=32", "dataset.channels=1", "model.filters=32", "trainer.batch_size=64"],
              "digits", 2.0),
    "c": Case("c", "dlwp frog model, 32 px, batch 20",
              ["model=dlwp", "dataset.image_size=32", "dataset.channels=3", "trainer.batch_size=20"],
              "frogs", 2.0),
}  # fmt: skip


# ---------------------------------------------------------------------------------------------- data
def image_root(kind: str, scratch: Path) -> Path:
    """An ImageFolder-style root (one class folder) holding the case's images as files."""
    root = scratch / kind
    if root.is_dir():
        return root
    (root / "images").parent.mkdir(parents=True)
    frogs = SHARED_DATA / "cifar10-frog-train"
    digits = SHARED_DATA / "mnist-t10k" / "t10k-images-idx3-ubyte.gz"
    if kind == "frogs" and frogs.is_dir():
        (root / "images").symlink_to(frogs.resolve(), target_is_directory=True)
    elif kind == "digits" and digits.is_file():
        _write_pngs(_read_idx(digits), root / "images")
    else:  # no ../shared: generated images of the same count and size
        rng = np.random.default_rng(0)
        shape = (5000, 32, 32, 3) if kind == "frogs" else (10000, 28, 28)
        _write_pngs(rng.integers(0, 256, shape, dtype=np.uint8), root / "images")
    return root


def _read_idx(path: Path) -> np.ndarray:
    raw = gzip.decompress(path.read_bytes())
    count, rows, cols = (int.from_bytes(raw[i : i + 4], "big") for i in (4, 8, 12))
    return np.frombuffer(raw, dtype=np.uint8, offset=16).reshape(count, rows, cols)


def _write_pngs(images: np.ndarray, folder: Path) -> None:
    folder.mkdir(parents=True)
    for index, image in enumerate(images):
        Image.fromarray(image).save(folder / f"{index:05d}.png")


# ---------------------------------------------------------------------------------------------- loops
class GanLabLoop:
    """gan-lab's own trainer, built from the config exactly as `gan-lab train` builds it."""

    def __init__(self, overrides: list[str], device: str, run_dir: Path, log_every: int):
        from gan_lab.config.preflight import compose_config
        from gan_lab.data import build_image_source
        from gan_lab.models import build_models
        from gan_lab.training.device import configure_backend, seed_everything
        from gan_lab.training.trainer import Trainer

        self.cfg = compose_config([
            *overrides, f"trainer.device={device}", f"trainer.log_every={log_every}",
            "trainer.sample_every=1000000", "trainer.checkpoint_every=0",
        ])  # fmt: skip
        self.device = torch.device(device)
        configure_backend(self.device)
        seed_everything(0)
        self.G, self.D = build_models(self.cfg)
        source = build_image_source(self.cfg, self.device)
        self.trainer = Trainer(self.cfg, self.G, self.D, source, run_dir, self.device)
        self.trainer.begin()
        self.step_number = 0

    def step(self) -> None:
        self.step_number += 1
        self.trainer.run_step(self.step_number, last=False)

    def sync(self) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize()

    def close(self) -> None:
        self.trainer.end()


def measure(loop, steps: int, batch_size: int, sync) -> float:
    """img/s over `steps` steps."""
    sync()
    start = time.perf_counter()
    for _ in range(steps):
        loop.step()
    sync()
    return steps * batch_size / (time.perf_counter() - start)


# ---------------------------------------------------------------------------------------------- FLOPs
def training_flops_per_image(G: torch.nn.Module, D: torch.nn.Module, latent_dim: int, batch: torch.Tensor) -> float:
    """FLOPs of one training step (D on real and fake, G through D, both backward passes) per image."""
    from torch.utils.flop_counter import FlopCounterMode

    G, D = G.float(), D.float()
    z = torch.randn(len(batch), latent_dim, device=batch.device)
    with FlopCounterMode(display=False) as counter:
        fake = G(z)
        (D(batch).mean() + D(fake.detach()).mean()).backward()
        D(fake).mean().backward()
    G.zero_grad(set_to_none=True)
    D.zero_grad(set_to_none=True)
    return counter.get_total_flops() / len(batch)


def matmul_peak_gflops(device: torch.device, size: int = 2048, repeats: int = 5) -> float:
    """The fp32 matmul rate of this device in GFLOP/s: size x size, all threads, median of `repeats` after a warm-up."""
    a = torch.randn(size, size, device=device)
    b = torch.randn(size, size, device=device)
    rates = []
    for i in range(repeats + 1):
        if device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        a @ b
        if device.type == "cuda":
            torch.cuda.synchronize()
        if i:  # the first one warms up the kernels and caches
            rates.append(2 * size**3 / (time.perf_counter() - start) / 1e9)
    return statistics.median(rates)


def cpu_model() -> str:
    """The CPU's model name (/proc/cpuinfo), or what platform says elsewhere."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    import platform

    return platform.processor() or platform.machine()


def machine_line(device: torch.device) -> str:
    """The first line of every benchmark: the processor, whether gan-lab runs bf16 on it, torch and threads."""
    from gan_lab.training.device import resolve_precision

    bf16 = resolve_precision("auto", device) is not None
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else cpu_model()
    forced = " (GAN_LAB_FP32=1)" if os.environ.get("GAN_LAB_FP32") == "1" else ""
    return (
        f"{name}: gan-lab precision {'bf16' if bf16 else 'fp32'}{forced}; torch {torch.__version__}, "
        f"{os.cpu_count()} CPU cores, {torch.get_num_threads()} threads, device {device}"
    )


# ---------------------------------------------------------------------------------------------- breakdown
def range_seconds(event, device: torch.device) -> float:
    """Seconds a profiler range took: its CPU time on the CPU; on a GPU the device time of its kernels,
    since the CPU time of an asynchronous step is only the time to launch them."""
    if device.type != "cuda":
        return event.cpu_time_total / 1e6
    return getattr(event, "device_time_total", getattr(event, "cuda_time_total", 0.0)) / 1e6


def step_breakdown(loop: GanLabLoop, steps: int) -> dict[str, float]:
    """Share of gan-lab's step time in its profiler ranges: data, D step, G step, logging."""
    from torch.profiler import ProfilerActivity, profile

    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if loop.device.type == "cuda" else [])
    loop.sync()
    with profile(activities=activities) as prof:
        start = time.perf_counter()  # inside: the profiler's own start and its event collection at exit are not steps
        for _ in range(steps):
            loop.step()
        loop.sync()
        total = time.perf_counter() - start
    times = {e.key: range_seconds(e, loop.device) for e in prof.key_averages() if e.key.startswith("gan_lab/")}
    shares = {key.removeprefix("gan_lab/"): value / total for key, value in sorted(times.items())}
    shares["other"] = max(0.0, 1 - sum(shares.values()))
    return shares


def peak_memory_mb(device: torch.device) -> float:
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated() / 2**20
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ---------------------------------------------------------------------------------------------- main
def run_case(case: Case, scratch: Path, device: str, rounds: int, steps: int, warmup: int, extra: list[str],
             by_kind: bool = False) -> dict:  # fmt: skip
    folder = image_root(case.data, scratch)
    data = ["dataset=image_folder", f"dataset.path={folder / 'images'}"]
    like_reference = ["model.ema_decay=null"]  # the reference keeps no EMA of G
    ours = GanLabLoop([*data, *like_reference, *case.overrides, *extra], device, scratch / f"run_{case.name}", log_every=50)
    reference = ReferenceLoop(ours.G, ours.D, folder, ours.cfg.dataset.image_size, ours.cfg.dataset.channels,
                              case.batch_size, ours.cfg.model.latent_dim, ours.device)  # fmt: skip
    no_sync = lambda: None  # noqa: E731  (the reference syncs every step through .item())
    for loop, sync in ((ours, ours.sync), (reference, no_sync)):
        measure(loop, warmup, case.batch_size, sync)
    ours_rates, reference_rates = [], []
    for _ in range(rounds):
        ours_rates.append(measure(ours, steps, case.batch_size, ours.sync))
        reference_rates.append(measure(reference, steps, case.batch_size, no_sync))
    batch = torch.randn(case.batch_size, ours.cfg.dataset.channels, ours.cfg.dataset.image_size,
                        ours.cfg.dataset.image_size, device=ours.device)  # fmt: skip
    flops = training_flops_per_image(reference.netG, reference.netD, ours.cfg.model.latent_dim, batch)
    # Before the breakdown: profiled after it, gan-lab's activations read 4-6x high in some runs (cause not found).
    kinds = (ms_per_step_by_kind(ours, steps), ms_per_step_by_kind(reference, steps)) if by_kind else None
    breakdown = step_breakdown(ours, max(steps, 50))  # 50 = the default log_every: one logging step in it
    ours.close()
    reference.close()
    ours_ips, reference_ips = statistics.median(ours_rates), statistics.median(reference_rates)
    return {
        "case": case.name, "what": case.what, "gan_lab_img_s": ours_ips, "reference_img_s": reference_ips,
        "ratio": ours_ips / reference_ips, "target": case.target, "gflop_per_image": flops / 1e9,
        "gan_lab_gflop_s": flops * ours_ips / 1e9, "reference_gflop_s": flops * reference_ips / 1e9,
        "breakdown": breakdown, "kinds": kinds, "peak_memory_mb": peak_memory_mb(ours.device),
        "precision": str(ours.trainer.amp_dtype or "fp32").replace("torch.", ""),
    }  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", default="abc", help="which cases to run, e.g. ab (default: abc)")
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved measuring rounds per loop")
    parser.add_argument("--steps", type=int, default=20, help="steps per round")
    parser.add_argument("--warmup", type=int, default=10, help="steps per loop before measuring")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 1 round of 3 steps")
    parser.add_argument("--profile", action="store_true",
                        help="also print both loops' CPU time per step by kind of operator, and the ratio's ceiling")  # fmt: skip
    parser.add_argument("overrides", nargs="*", help="gan-lab overrides for every case, e.g. trainer.channels_last=false")
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds, args.steps, args.warmup = 1, 3, 2
    unknown = set(args.cases) - set(CASES)
    if unknown:
        parser.error(f"unknown case(s) {', '.join(sorted(unknown))}; choose from {', '.join(CASES)}")
    if args.profile and args.device != "cpu":
        parser.error("--profile measures CPU time by operator; it runs with --device cpu only")
    device = torch.device(args.device)
    print(machine_line(device))
    peak = matmul_peak_gflops(device)
    print(f"fp32 matmul peak: {peak:,.1f} GFLOP/s (2048 x 2048, median of 5)")
    with tempfile.TemporaryDirectory(prefix="gan-lab-bench-") as scratch:
        for name in args.cases:
            r = run_case(CASES[name], Path(scratch), args.device, args.rounds, args.steps, args.warmup, args.overrides,
                         by_kind=args.profile)  # fmt: skip
            verdict = "meets" if r["ratio"] >= r["target"] else "misses"
            print(f"\n({r['case']}) {r['what']}  [gan-lab precision {r['precision']}]")
            print(f"  gan-lab    {r['gan_lab_img_s']:9,.1f} img/s  {r['gan_lab_gflop_s']:8,.1f} GFLOP/s "
                  f"({r['gan_lab_gflop_s'] / peak:.0%} of the fp32 peak)")  # fmt: skip
            print(f"  reference  {r['reference_img_s']:9,.1f} img/s  {r['reference_gflop_s']:8,.1f} GFLOP/s")
            print(f"  ratio      {r['ratio']:9.2f}x  (target {r['target']}x: {verdict})")
            print(f"  model      {r['gflop_per_image']:.3f} GFLOP per image per training step")
            print("  gan-lab step: " + ", ".join(f"{k} {v:.0%}" for k, v in r["breakdown"].items()))
            print(f"  peak memory {r['peak_memory_mb']:,.0f} MB")
            if r["kinds"]:
                reference_ms = 1000 * CASES[name].batch_size / r["reference_img_s"]
                print("\n".join(profile_lines(*r["kinds"], reference_ms)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
