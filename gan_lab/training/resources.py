"""Resource sanity before training: will the models fit in memory, and their checkpoints on disk?

The models are built on torch's meta device (shapes only, no memory), so the estimate takes
milliseconds; a size that cannot be allocated is refused in one line naming what to lower.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import torch
from omegaconf import DictConfig

from gan_lab.errors import UserError

# Training holds, per parameter: the weight, its gradient, Adam's two moments (and an EMA copy of G).
TRAINING_COPIES = 4
# A checkpoint holds G and D, both optimisers' moments and the EMA copy: about 3 copies of the weights.
CHECKPOINT_COPIES = 3
GiB = 1 << 30


def _available_ram() -> int | None:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def _activation_bytes(module: torch.nn.Module, inputs: torch.Tensor) -> tuple[int, torch.Tensor]:
    """Bytes of every leaf module's output in one forward pass (kept for backward), and the output."""
    total = 0

    def count(_m, _i, out):
        nonlocal total
        if isinstance(out, torch.Tensor):
            total += out.numel() * out.element_size()

    hooks = [m.register_forward_hook(count) for m in module.modules() if not list(m.children())]
    try:
        out = module(inputs)
    finally:
        for hook in hooks:
            hook.remove()
    return total, out


def estimate(cfg: DictConfig) -> tuple[int, int] | None:
    """(training memory bytes, checkpoint bytes) for cfg, or None when the models cannot be built on meta."""
    from gan_lab.models import build_models

    try:
        with torch.device("meta"):
            G, D = build_models(cfg)
            params = sum(p.numel() * p.element_size() for net in (G, D) for p in net.parameters())
            z = torch.empty(cfg.trainer.batch_size, cfg.model.latent_dim)
            g_act, fake = _activation_bytes(G, z)
            d_act, _ = _activation_bytes(D, fake)
    except Exception:  # a model that meta tensors cannot run: no estimate rather than a false refusal
        return None
    return params * TRAINING_COPIES + 2 * (g_act + d_act), params * CHECKPOINT_COPIES


def _existing(path: Path) -> Path:
    path = Path(path).absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def check_resources(cfg: DictConfig, run_dir: Path) -> None:
    """Refuse (UserError) a config whose memory or checkpoints cannot fit on this machine."""
    sizes = estimate(cfg)
    if sizes is None:
        return
    memory, checkpoint = sizes
    lower = "lower model.filters / hidden sizes, dataset.image_size or trainer.batch_size"
    ram = _available_ram()
    if ram is not None and memory > ram:
        raise UserError(f"the models need about {memory / GiB:.1f} GiB to train, more than the {ram / GiB:.1f} GiB of RAM available; {lower}")
    device = str(cfg.trainer.device)
    if device != "cpu" and torch.cuda.is_available():
        index = torch.device(device).index if device.startswith("cuda") else None
        free, _ = torch.cuda.mem_get_info(index or 0)
        if memory > free:
            raise UserError(f"the models need about {memory / GiB:.1f} GiB to train, more than the {free / GiB:.1f} GiB free on {device}; {lower}")
    kept = int(cfg.trainer.keep_checkpoints) or 1
    need = checkpoint * (kept + 2)  # the kept ones, the one being written and best.pt
    free_disk = shutil.disk_usage(_existing(run_dir)).free
    if need > free_disk:
        raise UserError(
            f"each checkpoint takes about {checkpoint / GiB:.2f} GiB ({kept} kept + 1 being written + best.pt = "
            f"{need / GiB:.1f} GiB), more than the {free_disk / GiB:.1f} GiB free on disk at {_existing(run_dir)}; "
            f"{lower}, or lower trainer.keep_checkpoints"
        )
