"""Residual G and D: plain 3x3 convolutions in residual blocks, resize up / average-pool down.

The notes' ResNet-style alternative to DCGAN: each block computes x + alpha * f(x) with a small
alpha (e.g. 0.1) for stability; the shortcut is a 1x1 conv where the width changes. Shape
comments are for 64 px and filters=64.
"""

from __future__ import annotations

from collections import OrderedDict

import torch
import torch.nn as nn

from gan_lab.models.base import Discriminator, Generator
from gan_lab.models.dcgan import num_stages
from gan_lab.models.layers import SameConv, activation, init_weights, norm_2d, upsample_conv, with_spectral_norm


class SumPool(nn.Module):
    """Sum over the spatial dimensions: N x C x H x W -> N x C."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.sum(dim=(2, 3))


def _maybe(module: nn.Module | None) -> nn.Module:
    return module if module is not None else nn.Identity()


class UpBlock(nn.Module):
    """out = shortcut(up(x)) + alpha * conv(act(norm(upconv(act(norm(x))))))"""

    def __init__(self, c_in: int, c_out: int, kernel_size: int, upsample: str, norm: str, act: str, alpha: float):
        super().__init__()
        self.alpha = alpha
        self.norm1, self.act1 = _maybe(norm_2d(norm, c_in)), activation(act)
        self.conv1 = upsample_conv(c_in, c_out, kernel_size, upsample, bias=True)
        self.norm2, self.act2 = _maybe(norm_2d(norm, c_out)), activation(act)
        self.conv2 = SameConv(c_out, c_out, kernel_size)
        self.up = nn.Upsample(scale_factor=2, mode="nearest")
        self.shortcut = nn.Conv2d(c_in, c_out, 1) if c_in != c_out else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f = self.conv2(self.act2(self.norm2(self.conv1(self.act1(self.norm1(x))))))
        return self.shortcut(self.up(x)) + self.alpha * f


class DownBlock(nn.Module):
    """out = pool(shortcut(x)) + alpha * pool(conv(act(conv(act(x)))))  (no pre-activation on the image)"""

    def __init__(self, c_in: int, c_out: int, kernel_size: int, norm: str, slope: float, alpha: float, first: bool):
        super().__init__()
        self.alpha = alpha
        self.act1 = nn.Identity() if first else activation("leaky_relu", slope)
        self.conv1 = with_spectral_norm(SameConv(c_in, c_out, kernel_size), norm)
        self.norm = _maybe(norm_2d(norm, c_out))
        self.act2 = activation("leaky_relu", slope)
        self.conv2 = with_spectral_norm(SameConv(c_out, c_out, kernel_size), norm)
        self.pool = nn.AvgPool2d(2)
        self.shortcut = with_spectral_norm(nn.Conv2d(c_in, c_out, 1), norm) if c_in != c_out else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f = self.conv2(self.act2(self.norm(self.conv1(self.act1(x)))))
        return self.pool(self.shortcut(x)) + self.alpha * self.pool(f)


class ResNetGenerator(Generator):
    """z -> dense -> width x 4 x 4 -> residual up blocks -> norm, act, 3x3 conv -> tanh."""

    def __init__(
        self,
        latent_dim: int,
        image_size: int,
        channels: int,
        filters: int = 64,
        kernel_size: int = 3,
        upsample: str = "nearest",
        norm: str = "batch",
        act: str = "relu",
        alpha: float = 0.1,
        init: str = "dcgan",
    ):
        super().__init__()
        stages = num_stages(image_size)
        width = filters * 2 ** (stages - 1)  # 512 at 64 px
        layers = OrderedDict()
        # latent_dim -> width * 4 * 4, reshaped
        layers["project"] = nn.Linear(latent_dim, width * 16)
        layers["unflatten"] = nn.Unflatten(1, (width, 4, 4))
        for stage in range(1, stages + 1):
            # 512x4x4 -> 256x8x8 -> 128x16x16 -> 64x32x32 -> 64x64x64
            out = max(filters, width // 2)
            layers[f"block{stage}"] = UpBlock(width, out, kernel_size, upsample, norm, act, alpha)
            width = out
        # 64 x 64 x 64 -> channels x 64 x 64
        if norm_2d(norm, width) is not None:
            layers["out_norm"] = norm_2d(norm, width)
        layers["out_act"] = activation(act)
        layers["to_image"] = SameConv(width, channels, 3)
        layers["output"] = nn.Tanh()
        self.net = nn.Sequential(layers)
        self.latent_dim = latent_dim
        init_weights(self, init)


class ResNetDiscriminator(Discriminator):
    """image -> residual down blocks to 4x4 -> act -> sum over space -> dense logit."""

    def __init__(
        self,
        image_size: int,
        channels: int,
        filters: int = 64,
        kernel_size: int = 3,
        norm: str = "none",
        slope: float = 0.2,
        alpha: float = 0.1,
        init: str = "dcgan",
    ):
        super().__init__()
        layers = OrderedDict()
        width_in, width = channels, filters
        for stage in range(1, num_stages(image_size) + 1):
            # 3x64x64 -> 64x32x32 -> 128x16x16 -> 256x8x8 -> 512x4x4
            layers[f"block{stage}"] = DownBlock(width_in, width, kernel_size, norm, slope, alpha, first=stage == 1)
            width_in, width = width, width * 2
        # 512 x 4 x 4 -> 512 (summed over space) -> 1
        layers["out_act"] = activation("leaky_relu", slope)
        layers["sum_pool"] = SumPool()
        layers["to_logit"] = with_spectral_norm(nn.Linear(width_in, 1), norm)
        self.net = nn.Sequential(layers)
        init_weights(self, init)
