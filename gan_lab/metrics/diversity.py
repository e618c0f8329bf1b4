"""How different a batch of images are from each other: the mode-collapse measure."""

from __future__ import annotations

import torch
import torch.nn.functional as F

POOLED_SIZE = 16  # compare layouts, not pixel noise: images are average-pooled to at most 16 x 16


def diversity(images: torch.Tensor) -> float:
    """Mean pairwise RMS distance between the images of a batch (N x C x H x W, N >= 2).

    Images are average-pooled to at most 16 x 16 first, so that pixel noise and checkerboards do
    not count as variety. A batch of identical images scores 0.
    """
    if len(images) < 2:
        raise ValueError("diversity needs at least 2 images")
    x = images.float()
    if x.shape[-1] > POOLED_SIZE:
        x = F.adaptive_avg_pool2d(x, POOLED_SIZE)
    x = x.flatten(1)
    distances = torch.cdist(x, x) / x.shape[1] ** 0.5
    n = len(x)
    return float(distances.sum() / (n * (n - 1)))


def diversity_ratio(generated: torch.Tensor, real: torch.Tensor) -> float:
    """Diversity of generated images over that of real images: near 1 is healthy, near 0 is collapse."""
    return diversity(generated) / max(diversity(real), 1e-12)
