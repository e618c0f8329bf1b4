"""Optimisers for G and D: `optim=<name>`."""

from __future__ import annotations

import torch
import torch.nn as nn
from omegaconf import DictConfig


def build_optimizers(o: DictConfig, G: nn.Module, D: nn.Module) -> tuple[torch.optim.Optimizer, torch.optim.Optimizer]:
    """(optimiser of G, optimiser of D); multi-tensor (foreach) updates keep the step cheap."""
    betas = tuple(o.betas)
    opt_G = torch.optim.Adam(G.parameters(), lr=o.lr_G, betas=betas, foreach=True)
    opt_D = torch.optim.Adam(D.parameters(), lr=o.lr_D, betas=betas, foreach=True)
    return opt_G, opt_D
