"""D as a feature extractor: its conv layers' outputs max-pooled to 4 x 4, and a linear classifier on them."""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from gan_lab.data.transforms import to_unit_range
from gan_lab.errors import UserError
from gan_lab.metrics.classifier import accuracy, fit

POOLED = 4  # each conv layer's output is max-pooled to POOLED x POOLED, as in the DCGAN paper


def conv_layers(D: nn.Module) -> list[nn.Conv2d]:
    convs = [m for m in D.modules() if isinstance(m, nn.Conv2d)]
    if not convs:
        raise UserError(f"probe needs a convolutional D; {type(D).__name__} has no conv layers")
    return convs


@torch.no_grad()
def d_features(D: nn.Module, images: torch.Tensor, device: torch.device, batch_size: int = 256) -> torch.Tensor:
    """uint8 images -> N x F: every conv layer's output max-pooled to 4 x 4 and concatenated (CPU floats)."""
    pooled: list[torch.Tensor] = []

    def keep(module, inputs, output):  # pools at once: the in-place activation after the conv changes output
        size = min(POOLED, output.shape[-2], output.shape[-1])
        pooled.append(F.adaptive_max_pool2d(output.float(), size).flatten(1).cpu())

    handles = [conv.register_forward_hook(keep) for conv in conv_layers(D)]
    D.eval()
    batches = []
    try:
        for start in range(0, len(images), batch_size):
            pooled.clear()
            D(to_unit_range(images[start : start + batch_size].to(device)))
            batches.append(torch.cat(pooled, dim=1))
    finally:
        for handle in handles:
            handle.remove()
    return torch.cat(batches)


def linear_probe(
    train_f: torch.Tensor, train_y: torch.Tensor, test_f: torch.Tensor, test_y: torch.Tensor,
    num_classes: int, epochs: int, seed: int, device: torch.device,
) -> float:  # fmt: skip
    """Test accuracy of a linear classifier on standardised features."""
    mean, std = train_f.mean(0), train_f.std(0).clamp_min(1e-6)
    torch.manual_seed(seed)
    model = fit(
        nn.Linear(train_f.shape[1], num_classes), (train_f - mean) / std, train_y, epochs, device,
        batch_size=256, lr=1e-3, weight_decay=1e-4, seed=seed,
    )  # fmt: skip
    return accuracy(model, (test_f - mean) / std, test_y, device)
