"""MNIST and CIFAR-10 through torchvision's own dataset classes, as uint8 image tensors."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Sequence

import torch
import torchvision

from gan_lab.errors import UserError, did_you_mean

CIFAR10_CLASSES = (
    "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck",
)  # fmt: skip
# torchvision's MNIST wants all four files, whichever split is used.
MNIST_FILES = (
    "train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte",
)  # fmt: skip
CIFAR10_ARCHIVE = "cifar-10-python.tar.gz"


def resolve_classes(classes: Sequence | None, names: Sequence[str], key: str) -> list[int] | None:
    """Class names or indices -> sorted indices; None keeps every class."""
    if classes is None:
        return None
    if isinstance(classes, (str, int)):
        classes = [classes]
    allowed = f"choose from {', '.join(names)} (or 0-{len(names) - 1})"
    indices = set()
    for item in classes:
        text = str(item).strip()
        if text.lstrip("-").isdigit():
            index = int(text)
            if not 0 <= index < len(names):
                raise UserError(f"{key}: {index} is not a class index; {allowed}")
            indices.add(index)
        elif text in names:
            indices.add(names.index(text))
        else:
            raise UserError(f"{key}: '{text}' is not a class{did_you_mean(text, names)}; {allowed}")
    if not indices:
        raise UserError(f"{key} is empty; {allowed}, or null for all classes")
    return sorted(indices)


def load_mnist(root: Path, train: bool, download: bool, classes: Sequence | None) -> torch.Tensor:
    """MNIST digits as uint8 N x 1 x 28 x 28, optionally only some digits."""
    wanted = resolve_classes(classes, [str(d) for d in range(10)], "dataset.classes")
    return _select(*mnist_with_labels(root, train, download), wanted, "MNIST")


def mnist_with_labels(root: Path, train: bool, download: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """MNIST digits as uint8 N x 1 x 28 x 28 and their labels (N, int64)."""
    try:
        dataset = torchvision.datasets.MNIST(str(root), train=train, download=download)
    except (RuntimeError, OSError) as error:
        raise UserError(
            f"MNIST files not found in {root / 'MNIST' / 'raw'} and {_download_outcome(download, error)}; "
            f"place {', '.join(MNIST_FILES)} there (unzipped, or as .gz with dataset.download=true; "
            f"from https://ossci-datasets.s3.amazonaws.com/mnist/) or set paths.data_dir"
        ) from error
    return dataset.data.unsqueeze(1), dataset.targets.long()


def load_cifar10(root: Path, train: bool, download: bool, classes: Sequence | None) -> torch.Tensor:
    """CIFAR-10 images as uint8 N x 3 x 32 x 32, optionally only some classes."""
    wanted = resolve_classes(classes, CIFAR10_CLASSES, "dataset.classes")
    return _select(*cifar10_with_labels(root, train, download), wanted, "CIFAR-10")


def cifar10_with_labels(root: Path, train: bool, download: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """CIFAR-10 images as uint8 N x 3 x 32 x 32 and their labels (N, int64)."""
    try:
        dataset = torchvision.datasets.CIFAR10(str(root), train=train, download=download)
    except (RuntimeError, OSError) as error:
        raise UserError(
            f"CIFAR-10 files not found in {root / 'cifar-10-batches-py'} and {_download_outcome(download, error)}; "
            f"place {CIFAR10_ARCHIVE} (from https://www.cs.toronto.edu/~kriz/) in {root} "
            f"or its extracted cifar-10-batches-py/ folder there, or set paths.data_dir"
        ) from error
    return torch.from_numpy(dataset.data).permute(0, 3, 1, 2).contiguous(), torch.tensor(dataset.targets).long()


def _select(images: torch.Tensor, labels: torch.Tensor, wanted: list[int] | None, name: str) -> torch.Tensor:
    if wanted is None:
        return images
    keep = torch.isin(labels, torch.tensor(wanted))
    if not keep.any():
        raise UserError(f"dataset.classes={wanted} selects no {name} images")
    return images[keep]


def _download_outcome(download: bool, error: Exception) -> str:
    if not download:
        return "dataset.download=false"
    reason = re.search(r"\[Errno [^\]]+\] ([^>\n]+)", str(error))
    detail = reason.group(1).strip() if reason else (str(error).strip().splitlines() or [type(error).__name__])[-1]
    return f"the download failed (offline? {detail})"
