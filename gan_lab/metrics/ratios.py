"""Weights-free scores of generated vs real images: checkerboard and diversity ratios (1 = like real)."""

from __future__ import annotations

import torch

from gan_lab.data.transforms import to_unit_range
from gan_lab.metrics.diversity import diversity_ratio
from gan_lab.metrics.spectral import checkerboard_score


def image_metrics(fake: torch.Tensor, real: torch.Tensor, diversity_samples: int) -> dict[str, float]:
    """Weights-free ratios of uint8 generated vs real images: checkerboard and diversity (1 = like real)."""
    return {
        "checkerboard": checkerboard_score(to_unit_range(fake), to_unit_range(real)),
        "diversity": diversity_ratio(to_unit_range(fake[:diversity_samples]), to_unit_range(real[:diversity_samples])),
    }
