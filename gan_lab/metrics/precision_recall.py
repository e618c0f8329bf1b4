"""Precision and recall of generated images (Kynkaanniemi et al. 2019), on the same features as FID.

Precision: the share of generated images that fall inside the k-nearest-neighbour ball of some real
image (are they realistic?); recall: the share of real images inside the ball of some generated image
(is the data covered?). FID alone cannot tell blur (low precision) from collapse (low recall).
The computation is torch-fidelity's (installed with torchmetrics); the features are the ones
metrics/fid.py already extracted for KID, so no image is passed through the network twice.
"""

from __future__ import annotations

import torch


def precision_recall(fake: torch.Tensor, real: torch.Tensor, k: int = 3) -> dict[str, float]:
    """precision and recall of N x D generated features against M x D real features (k: the ball's neighbour)."""
    from torch_fidelity.metric_prc import calculate_precision_recall_full

    if min(len(fake), len(real)) <= k:
        raise ValueError(f"precision/recall with k={k} needs more than {k} real and generated images")
    precision, recall = calculate_precision_recall_full(fake.double(), real.double(), neighborhood=k)
    return {"precision": float(precision), "recall": float(recall)}


def of_quality(quality) -> dict[str, float]:
    """precision and recall from the features a SampleQuality kept for KID after its score()."""
    kid = quality.kid
    return precision_recall(torch.cat(list(kid.fake_features)), torch.cat(list(kid.real_features)))
