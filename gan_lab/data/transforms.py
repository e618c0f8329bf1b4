"""Shape and range conversions shared by every dataset: square size, channel count, [-1, 1]."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torchvision.transforms.v2 import functional as TF

# ITU-R BT.601 luma, the weights PIL uses for mode "L".
_LUMA = torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)


def to_unit_range(images: torch.Tensor) -> torch.Tensor:
    """uint8 images in [0, 255] -> float images in [-1, 1] (done per batch, on the device)."""
    return images.float().div_(127.5).sub_(1.0)


def to_uint8(images: torch.Tensor) -> torch.Tensor:
    """Float images in [-1, 1] -> uint8 in [0, 255]."""
    return images.add(1.0).mul_(127.5).round_().clamp_(0, 255).to(torch.uint8)


def fit_images(images: torch.Tensor, image_size: int, channels: int, chunk: int = 2048) -> torch.Tensor:
    """Resize (shorter side, antialiased), centre-crop and convert channels of a uint8 N x C x H x W batch."""
    out = torch.empty(len(images), channels, image_size, image_size, dtype=torch.uint8)
    for start in range(0, len(images), chunk):
        part = images[start : start + chunk]
        if part.shape[-2:] != (image_size, image_size):
            part = _resize_and_crop(part.float(), image_size)
        # not in place: grey -> RGB is an expanded view whose three channels share memory
        out[start : start + chunk] = convert_channels(part.float(), channels).round().clamp_(0, 255)
    return out


def _resize_and_crop(images: torch.Tensor, size: int) -> torch.Tensor:
    h, w = images.shape[-2:]
    scale = size / min(h, w)
    new_h, new_w = max(size, round(h * scale)), max(size, round(w * scale))
    images = F.interpolate(images, size=(new_h, new_w), mode="bilinear", antialias=True, align_corners=False)
    top, left = (new_h - size) // 2, (new_w - size) // 2
    return images[..., top : top + size, left : left + size]


def convert_channels(images: torch.Tensor, channels: int) -> torch.Tensor:
    """1 <-> 3 channels for a float N x C x H x W batch (RGB to grey by luma)."""
    have = images.shape[1]
    if have == channels:
        return images
    if have == 3 and channels == 1:
        return (images * _LUMA.to(images.device)).sum(1, keepdim=True)
    if have == 1 and channels == 3:
        return images.expand(-1, 3, -1, -1)
    raise ValueError(f"cannot convert {have} channels to {channels}")


def pil_to_tensor(image: Image.Image, image_size: int, channels: int) -> torch.Tensor:
    """Any PIL image (RGBA, palette, 16-bit, grey, ...) -> uint8 C x image_size x image_size."""
    image = _normalise_mode(image, channels)
    image = TF.resize(image, image_size, interpolation=TF.InterpolationMode.BILINEAR, antialias=True)
    image = TF.center_crop(image, [image_size, image_size])
    return TF.pil_to_tensor(image)


def _normalise_mode(image: Image.Image, channels: int) -> Image.Image:
    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        # 16-bit and float greyscale: rescale the full range to 8 bits instead of clipping.
        array = torch.from_numpy(np.asarray(image, dtype=np.float32))
        low, high = float(array.min()), float(array.max())
        array = (array - low) * (255.0 / (high - low)) if high > low else array * 0
        image = Image.fromarray(array.round().clamp(0, 255).to(torch.uint8).numpy(), mode="L")
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        # Composite transparency onto white rather than keeping whatever colour hides under alpha 0.
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, rgba)
    return image.convert("L" if channels == 1 else "RGB")
