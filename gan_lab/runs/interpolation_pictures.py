"""The pictures of `gan-lab interpolate`: latent walks as a PNG grid and a GIF, and the vector-arithmetic grid."""

from __future__ import annotations

import math
from pathlib import Path

import torch
import torch.nn.functional as F
from PIL import Image
from torchvision.utils import make_grid, save_image

from gan_lab.data.transforms import to_unit_range
from gan_lab.models.latent import arithmetic_latent
from gan_lab.runs.layout import arithmetic_picture, walk_files
from gan_lab.runs.trained import generate

MIN_SHOWN = 64  # images smaller than this are enlarged (nearest neighbour) in the PNG and GIF


def enlarge(images: torch.Tensor) -> torch.Tensor:
    """Float images smaller than MIN_SHOWN px enlarged by an integer factor (nearest neighbour)."""
    factor = math.ceil(MIN_SHOWN / images.shape[-1])
    return F.interpolate(images, scale_factor=factor, mode="nearest") if factor > 1 else images


def to_frame(grid: torch.Tensor) -> Image.Image:
    """A 3 x H x W grid in [0, 1] as a PIL image."""
    return Image.fromarray(grid.mul(255).round().clamp(0, 255).byte().permute(1, 2, 0).numpy())


def write_walks(images: torch.Tensor, out: Path, fps: float) -> tuple[Path, Path]:
    """walks.png (a row per walk) and walks.gif (frame t: every walk at step t, forth and back)."""
    walks, steps = images.shape[:2]
    shown = enlarge(to_unit_range(images.flatten(0, 1))).unflatten(0, (walks, steps))
    png, gif = walk_files(out)
    save_image(shown.flatten(0, 1), png, nrow=steps, padding=2, normalize=True, value_range=(-1, 1))
    columns = max(1, math.ceil(math.sqrt(walks)))
    frames = [
        to_frame(make_grid(shown[:, t], nrow=columns, padding=2, normalize=True, value_range=(-1, 1)))
        for t in list(range(steps)) + list(range(steps - 2, 0, -1))
    ]
    frames[0].save(gif, save_all=True, append_images=frames[1:], duration=round(1000 / fps), loop=0)
    return png, gif


def write_arithmetic(G, z_all, groups, loaded, jitter: float, seed: int, out: Path) -> Path:
    """arithmetic.png: rows A, B, C (their samples, then the image of their mean z), then the result and variants."""
    result = arithmetic_latent(z_all, *groups)
    noise = torch.rand(7, result.numel(), generator=torch.Generator().manual_seed(seed)).mul_(2).sub_(1).mul_(jitter)
    rows_z = [torch.cat([z_all[g], z_all[g].mean(0, keepdim=True)]) for g in groups]
    rows_z.append(torch.cat([result[None], result[None] + noise]))
    rows = [to_unit_range(generate(G, row, 256, loaded.device)) for row in rows_z]
    width = max(len(row) for row in rows)
    white = torch.ones_like(rows[0][:1])  # fills rows shorter than the grid
    images = torch.cat([torch.cat([row, white.expand(width - len(row), -1, -1, -1)]) for row in rows])
    file = arithmetic_picture(out)
    save_image(enlarge(images), file, nrow=width, padding=2, normalize=True, value_range=(-1, 1))
    return file
