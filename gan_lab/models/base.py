"""Base classes: every G and D is a Sequential `net`; these give them their common forward."""

from __future__ import annotations

import torch
import torch.nn as nn


class Generator(nn.Module):
    """z (N x latent_dim) -> images (N x C x H x W) through `self.net`."""

    latent_dim: int
    net: nn.Sequential

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z.flatten(1))


class Discriminator(nn.Module):
    """images -> one raw output (logit or critic value) per image through `self.net`."""

    net: nn.Sequential

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).flatten()
