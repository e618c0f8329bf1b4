"""Small supervised classifiers: a CNN that labels generated images (the class histogram of a GAN's
samples, a mode-dropping signal) and the training loop shared with `gan-lab probe`'s linear probe."""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F


class SmallCNN(nn.Module):
    """uint8 N x C x S x S images -> class logits: two conv + max-pool blocks, a 4 x 4 map, two linear layers."""

    def __init__(self, channels: int, num_classes: int, width: int = 32):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(channels, width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # width x S/2 x S/2
            nn.Conv2d(width, 2 * width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # 2 width x S/4 x S/4
            nn.AdaptiveAvgPool2d(4), nn.Flatten(),  # 2 width * 16
            nn.Linear(2 * width * 16, 128), nn.ReLU(), nn.Linear(128, num_classes),
        )  # fmt: skip

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.net(images.float().div(127.5).sub(1.0) if images.dtype == torch.uint8 else images)


def fit(
    model: nn.Module, inputs: torch.Tensor, labels: torch.Tensor, epochs: int, device: torch.device,
    batch_size: int = 128, lr: float = 1e-3, weight_decay: float = 0.0, seed: int = 0,
) -> nn.Module:  # fmt: skip
    """Train with Adam and cross-entropy on (inputs, labels) for `epochs` seeded shuffles; returns it in eval mode."""
    generator = torch.Generator().manual_seed(seed)
    model.to(device).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    for _ in range(epochs):
        order = torch.randperm(len(inputs), generator=generator)
        for start in range(0, len(inputs), batch_size):
            index = order[start : start + batch_size]
            loss = F.cross_entropy(model(inputs[index].to(device)), labels[index].to(device))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    return model.eval()


@torch.no_grad()
def predict(model: nn.Module, inputs: torch.Tensor, device: torch.device, batch_size: int = 512) -> torch.Tensor:
    """Predicted class of every input (CPU int64)."""
    model.eval()
    out = [model(inputs[s : s + batch_size].to(device)).argmax(1).cpu() for s in range(0, len(inputs), batch_size)]
    return torch.cat(out) if out else torch.zeros(0, dtype=torch.long)


def accuracy(model: nn.Module, inputs: torch.Tensor, labels: torch.Tensor, device: torch.device) -> float:
    """Fraction of inputs classified as their label."""
    return float((predict(model, inputs, device) == labels).float().mean())


def class_histogram(predicted: torch.Tensor, num_classes: int) -> list[float]:
    """Fraction of samples given each class."""
    counts = torch.bincount(predicted, minlength=num_classes).float()
    return (counts / counts.sum().clamp_min(1)).tolist()
