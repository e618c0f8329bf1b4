"""What `gan-lab generate` writes: samples.npz (images and their noise) and a PNG grid of the first images."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torchvision.utils import save_image

from gan_lab.data.transforms import to_unit_range
from gan_lab.errors import UserError
from gan_lab.runs.tensorboard import image_grid


def save_grid(images: torch.Tensor, file: Path, nrow: int = 8) -> None:
    """A PNG grid of uint8 N x C x H x W images, `nrow` per row."""
    file.parent.mkdir(parents=True, exist_ok=True)
    save_image(image_grid(to_unit_range(images), nrow=nrow), file)


def write_samples(images: torch.Tensor, z: torch.Tensor, file: Path) -> None:
    """samples.npz: images as N x H x W x C uint8, z as float32."""
    file.parent.mkdir(parents=True, exist_ok=True)
    try:
        with open(file, "wb") as f:
            np.savez_compressed(f, images=images.permute(0, 2, 3, 1).contiguous().numpy(), z=z.float().numpy())
    except OSError as error:
        raise UserError(f"could not write {file}: {error.strerror or error}") from None
