"""Labelled datasets (MNIST, CIFAR-10) at a run's image size and channels, for classifiers and probes."""

from __future__ import annotations

from pathlib import Path

import torch

from gan_lab.data.torchvision_sets import CIFAR10_CLASSES, cifar10_with_labels, mnist_with_labels
from gan_lab.data.transforms import fit_images

# name -> (loader(root, train, download) -> (images, labels), class names)
LABELLED = {
    "mnist": (mnist_with_labels, tuple(str(d) for d in range(10))),
    "cifar10": (cifar10_with_labels, CIFAR10_CLASSES),
}


def load_labelled(
    name: str, root: Path, train: bool, image_size: int, channels: int, download: bool = False
) -> tuple[torch.Tensor, torch.Tensor, tuple[str, ...]]:
    """(uint8 N x channels x image_size x image_size, int64 labels, class names) of one split."""
    loader, names = LABELLED[name]
    images, labels = loader(root, train, download)
    return fit_images(images, image_size, channels), labels, names


def subset(
    images: torch.Tensor, labels: torch.Tensor, size: int | None, seed: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """A seeded random subset of at most `size` labelled images (all of them for None)."""
    if size is None or size >= len(images):
        return images, labels
    keep = torch.randperm(len(images), generator=torch.Generator().manual_seed(seed))[:size]
    return images[keep], labels[keep]
