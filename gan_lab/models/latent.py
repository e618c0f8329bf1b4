"""Latent noise z from the model's prior: N(0, 1) or U[-1, 1] (model.latent_dist), and walks between latent points."""

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


def lerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Straight-line points between rows a and b: len(t) x D for each pair."""
    return a + (b - a) * t[:, None]


def slerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Spherical interpolation between vectors a and b (D) at fractions t; lerp when they are parallel."""
    cos = torch.dot(a / a.norm(), b / b.norm()).clamp(-1, 1)
    omega = torch.arccos(cos)
    if omega.abs() < 1e-4:
        return lerp(a, b, t)
    return (torch.sin((1 - t) * omega)[:, None] * a + torch.sin(t * omega)[:, None] * b) / torch.sin(omega)


def walk_latents(starts: torch.Tensor, ends: torch.Tensor, steps: int, mode: str) -> torch.Tensor:
    """walks x steps x D latent points."""
    t = torch.linspace(0, 1, steps)
    path_of = slerp if mode == "slerp" else lerp
    return torch.stack([path_of(a, b, t) for a, b in zip(starts, ends)])


def arithmetic_latent(z: torch.Tensor, a: list[int], b: list[int], c: list[int]) -> torch.Tensor:
    """mean(z_A) - mean(z_B) + mean(z_C)."""
    return z[a].mean(0) - z[b].mean(0) + z[c].mean(0)
