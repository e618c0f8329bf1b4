"""Latent noise z from the model's prior: N(0, 1) or U[-1, 1] (model.latent_dist)."""

from __future__ import annotations

import torch

# Seeded latents are drawn in blocks of this many rows from one generator, so image i of a seed is
# the same whatever the number of images asked for (interpolate --arithmetic relies on it).
LATENT_BLOCK = 1024


def sample_latent(n: int, latent_dim: int, dist: str, device=None, generator: torch.Generator | None = None) -> torch.Tensor:
    """n latent vectors from the prior; `generator` (a CPU one) makes them reproducible."""
    if dist == "uniform":
        return torch.rand(n, latent_dim, device=device, generator=generator).mul_(2).sub_(1)
    return torch.randn(n, latent_dim, device=device, generator=generator)


def latents(n: int, latent_dim: int, dist: str, seed: int) -> torch.Tensor:
    """n latent vectors (CPU) for a seed; row i depends only on the seed, not on n."""
    generator = torch.Generator().manual_seed(seed)
    blocks = [sample_latent(LATENT_BLOCK, latent_dim, dist, generator=generator) for _ in range(-(-n // LATENT_BLOCK))]
    return torch.cat(blocks)[:n] if blocks else torch.zeros(0, latent_dim)
