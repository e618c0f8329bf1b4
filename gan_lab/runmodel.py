"""A run's trained networks, loaded safely from a checkpoint, and the seeded latent noise they sample from.

Commands after `train` (generate, evaluate, interpolate, probe) use G (the EMA copy when the run
kept one) and D exactly as the checkpoint saved them, with the config the checkpoint was trained with.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import torch
import torch.nn as nn
from omegaconf import DictConfig, OmegaConf

from gan_lab.checkpoint import load_checkpoint, load_module_state
from gan_lab.data.transforms import to_uint8
from gan_lab.errors import UserError
from gan_lab.models import build_models
from gan_lab.options import Option, optional_text
from gan_lab.rundir import display_path, latest_checkpoint, require_run_dir
from gan_lab.runtime import resolve_device

# The options every command that loads a run shares.
CHECKPOINT = Option(
    "checkpoint", optional_text, None, "a checkpoint file or its name in checkpoints/ (default: the newest step_*.pt)"
)
DEVICE = Option("device", str, "auto", "auto (CUDA when present), cpu, cuda, cuda:N")

# Latents are drawn in blocks of this many rows from one seeded generator, so image i of a seed is
# the same whatever the number of images asked for (interpolate --arithmetic relies on it).
LATENT_BLOCK = 1024


@dataclass
class LoadedRun:
    """G and D of one checkpoint, in eval mode on `device`."""

    run_dir: Path
    cfg: DictConfig
    checkpoint: Path
    step: int
    G: nn.Module
    G_name: str  # "G_ema" or "G"
    D: nn.Module
    device: torch.device

    @property
    def latent_dim(self) -> int:
        return int(self.cfg.model.latent_dim)

    def describe(self, net: str = "G") -> str:
        """'checkpoints/step_000004.pt (step 4, G_ema)', or '(step 4, D)' for net='D'."""
        return f"{display_path(self.checkpoint)} (step {self.step}, {self.G_name if net == 'G' else net})"


def device_option(name: str) -> torch.device:
    """The device= option: auto (CUDA when present, else CPU), cpu, cuda, cuda:N."""
    try:
        return resolve_device(name)
    except UserError as error:
        raise UserError(str(error).replace("trainer.device", "device")) from None


def find_checkpoint(run_dir: Path, name: str | None) -> Path:
    """checkpoint= as given: None (the newest step_*.pt), a path, or a name inside the run's checkpoints/."""
    if name is None:
        return latest_checkpoint(run_dir)
    for candidate in (
        Path(name),
        run_dir / name,
        run_dir / "checkpoints" / name,
        run_dir / "checkpoints" / f"{name}.pt",
    ):
        if candidate.is_file():
            return candidate
    found = sorted(p.name for p in (run_dir / "checkpoints").glob("*.pt"))
    raise UserError(f"checkpoint={name} does not exist; this run has {', '.join(found) or 'no checkpoints'}")


def load_run(run_dir: Path | str, checkpoint: str | None = None, device: str = "auto") -> LoadedRun:
    """G (the EMA copy when saved) and D of a run's checkpoint (torch.load with weights_only=True)."""
    run_dir = require_run_dir(run_dir)
    path = find_checkpoint(run_dir, checkpoint)
    payload = load_checkpoint(path)
    cfg = OmegaConf.create(payload["config"])
    G, D = build_models(cfg)
    G_name = "G_ema" if "G_ema" in payload else "G"
    load_module_state(G, payload[G_name], G_name, path)
    load_module_state(D, payload["D"], "D", path)
    target = device_option(device)
    return LoadedRun(run_dir, cfg, path, int(payload["step"]), G.to(target).eval(), G_name, D.to(target).eval(), target)


def latents(n: int, latent_dim: int, dist: str, seed: int) -> torch.Tensor:
    """n latent vectors (CPU) from the model's prior, N(0, 1) or U[-1, 1]; row i depends only on the seed."""
    generator = torch.Generator().manual_seed(seed)
    blocks, drawn = [], 0
    while drawn < n:
        if dist == "uniform":
            block = torch.rand(LATENT_BLOCK, latent_dim, generator=generator).mul_(2).sub_(1)
        else:
            block = torch.randn(LATENT_BLOCK, latent_dim, generator=generator)
        blocks.append(block)
        drawn += LATENT_BLOCK
    return torch.cat(blocks)[:n] if blocks else torch.zeros(0, latent_dim)


@torch.no_grad()
def generate_batches(G: nn.Module, z: torch.Tensor, batch_size: int, device: torch.device) -> Iterator[torch.Tensor]:
    """uint8 images (CPU, N x C x H x W) for z, one batch at a time."""
    for start in range(0, len(z), batch_size):
        images = G(z[start : start + batch_size].to(device)).float()
        yield to_uint8(images).cpu()


def generate(G: nn.Module, z: torch.Tensor, batch_size: int, device: torch.device) -> torch.Tensor:
    """All images for z as one uint8 N x C x H x W CPU tensor."""
    batches = list(generate_batches(G, z, batch_size, device))
    return torch.cat(batches) if batches else torch.zeros(0, dtype=torch.uint8)
