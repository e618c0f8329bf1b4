"""A run's trained networks, loaded safely from a checkpoint, and the images they generate.

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

from gan_lab.data.transforms import to_uint8
from gan_lab.models import build_models
from gan_lab.runs.checkpoint import load_checkpoint, load_module_state
from gan_lab.runs.layout import display_path, find_checkpoint, require_run_dir


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


def load_run(run_dir: Path | str, checkpoint: str | None = None, device: torch.device = torch.device("cpu")) -> LoadedRun:
    """G (the EMA copy when saved) and D of a run's checkpoint (torch.load with weights_only=True)."""
    run_dir = require_run_dir(run_dir)
    path = find_checkpoint(run_dir, checkpoint)
    payload = load_checkpoint(path)
    cfg = OmegaConf.create(payload["config"])
    G, D = build_models(cfg)
    G_name = "G_ema" if "G_ema" in payload else "G"
    load_module_state(G, payload[G_name], G_name, path)
    load_module_state(D, payload["D"], "D", path)
    return LoadedRun(run_dir, cfg, path, int(payload["step"]), G.to(device).eval(), G_name, D.to(device).eval(), device)


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
