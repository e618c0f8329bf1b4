"""DCGAN generator and discriminator (Radford et al. 2015), built from knobs.

Shape comments use the 64 px, filters=64 case: each G block doubles the size and halves the
channels; D mirrors it. Any kernel size from 2 to 7 gives exactly the image size (see
layers.stride2_padding), and any power-of-two size from 16 to 128 works.
"""

from __future__ import annotations

import math
from collections import OrderedDict

import torch
import torch.nn as nn

from gan_lab.models.layers import downsample_conv, init_dcgan_weights, upsample_conv


def num_stages(image_size: int) -> int:
    """Stride-2 stages between a 4x4 map and the image: 64 px -> 4 (4, 8, 16, 32, 64)."""
    return int(math.log2(image_size)) - 2


class DCGANGenerator(nn.Module):
    """z -> 4x4 projection -> (upsample, BN, ReLU) blocks -> tanh image in [-1, 1]."""

    def __init__(
        self,
        latent_dim: int,
        image_size: int,
        channels: int,
        filters: int = 64,
        kernel_size: int = 4,
        upsample: str = "transpose",
        batchnorm: bool = True,
    ):
        super().__init__()
        stages = num_stages(image_size)
        width = filters * 2 ** (stages - 1)  # 512 at 64 px
        layers = OrderedDict()
        # z: latent_dim x 1 x 1 -> width x 4 x 4 (the "project and reshape" step)
        layers["project"] = nn.ConvTranspose2d(latent_dim, width, 4, 1, 0, bias=not batchnorm)
        _norm_and_act(layers, "project", width, batchnorm)
        for stage in range(1, stages):
            # width x s x s -> width/2 x 2s x 2s  (512x4x4 -> 256x8x8 -> 128x16x16 -> 64x32x32)
            layers[f"up{stage}"] = upsample_conv(width, width // 2, kernel_size, upsample, bias=not batchnorm)
            width //= 2
            _norm_and_act(layers, f"up{stage}", width, batchnorm)
        # 64 x 32 x 32 -> channels x 64 x 64, no BN on the output layer
        layers["to_image"] = upsample_conv(width, channels, kernel_size, upsample, bias=True)
        layers["tanh"] = nn.Tanh()
        self.net = nn.Sequential(layers)
        self.latent_dim = latent_dim
        init_dcgan_weights(self)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z.view(z.shape[0], -1, 1, 1))


class DCGANDiscriminator(nn.Module):
    """image -> (strided conv, BN, LeakyReLU 0.2) blocks down to 4x4 -> one logit per image."""

    def __init__(
        self, image_size: int, channels: int, filters: int = 64, kernel_size: int = 4, batchnorm: bool = True
    ):
        super().__init__()
        layers = OrderedDict()
        # channels x 64 x 64 -> 64 x 32 x 32, no BN on the input layer
        layers["from_image"] = downsample_conv(channels, filters, kernel_size, bias=True)
        layers["from_image_act"] = nn.LeakyReLU(0.2, inplace=True)
        width = filters
        for stage in range(2, num_stages(image_size) + 1):
            # 64x32x32 -> 128x16x16 -> 256x8x8 -> 512x4x4
            layers[f"down{stage}"] = downsample_conv(width, width * 2, kernel_size, bias=not batchnorm)
            width *= 2
            if batchnorm:
                layers[f"down{stage}_bn"] = nn.BatchNorm2d(width)
            layers[f"down{stage}_act"] = nn.LeakyReLU(0.2, inplace=True)
        # 512 x 4 x 4 -> 1 x 1 x 1: a logit (the loss applies the sigmoid)
        layers["to_logit"] = nn.Conv2d(width, 1, 4, 1, 0, bias=True)
        self.net = nn.Sequential(layers)
        init_dcgan_weights(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).flatten()


def _norm_and_act(layers: OrderedDict, name: str, width: int, batchnorm: bool) -> None:
    if batchnorm:
        layers[f"{name}_bn"] = nn.BatchNorm2d(width)
    layers[f"{name}_act"] = nn.ReLU(inplace=True)
