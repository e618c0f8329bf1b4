"""DCGAN generator and discriminator (Radford et al. 2015), built from knobs.

Shape comments use the 64 px, filters=64 case: each G block doubles the size and halves the
channels; D mirrors it. Any kernel size from 2 to 7 gives exactly the image size (see
layers.stride2_padding), and any power-of-two size from 16 to 128 works. Optional dense layers,
a larger starting map and a final stride-1 conv reproduce the 128 px grayscale setup of the notes.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from typing import Sequence

import torch.nn as nn

from gan_lab.models.base import Discriminator, Generator
from gan_lab.models.layers import (
    SameConv,
    activation,
    add_block,
    downsample_conv,
    init_weights,
    norm_1d,
    norm_2d,
    upsample_conv,
    with_spectral_norm,
)
from gan_lab.models.matmul_convs import DenseHead, DenseProjection


def num_stages(image_size: int, start_size: int = 4) -> int:
    """Stride-2 stages between the start map and the image: 64 px from 4x4 -> 4 (4, 8, 16, 32, 64)."""
    return int(math.log2(image_size // start_size))


class DCGANGenerator(Generator):
    """z -> [dense layers] -> start x start projection -> (upsample, norm, act) blocks -> image."""

    def __init__(
        self,
        latent_dim: int,
        image_size: int,
        channels: int,
        filters: int = 64,
        kernel_size: int = 4,
        upsample: str = "transpose",
        norm: str = "batch",
        norm_affine: bool = True,
        act: str = "relu",
        output: str = "tanh",
        start_size: int = 4,
        dense: Sequence[int] = (),
        final_conv: bool = False,
        init: str = "dcgan",
    ):
        super().__init__()
        stages = num_stages(image_size, start_size)
        width = filters * 2 ** (stages - 1)  # 512 at 64 px
        bias = norm == "none"
        layers = OrderedDict()
        features = latent_dim
        for i, size in enumerate(dense, start=1):
            # optional dense layers on z: latent_dim -> size
            add_block(layers, f"dense{i}", nn.Linear(features, size, bias=bias), norm_1d(norm, size, norm_affine), activation(act))
            features = size
        layers["to_map"] = nn.Unflatten(1, (features, 1, 1))
        # features x 1 x 1 -> width x start x start: "project and reshape" (a dense layer as a conv)
        project = DenseProjection(features, width, start_size, bias=bias)
        add_block(layers, "project", project, norm_2d(norm, width, norm_affine), activation(act))
        # with a final stride-1 conv, every stage keeps a hidden width (128, 64, 32 in the notes' setup)
        widths = [filters * 2 ** (stages - i - (0 if final_conv else 1)) for i in range(1, stages + 1)]
        for stage, out in enumerate(widths[: stages if final_conv else stages - 1], start=1):
            # width x s x s -> out x 2s x 2s  (512x4x4 -> 256x8x8 -> 128x16x16 -> 64x32x32)
            up = upsample_conv(width, out, kernel_size, upsample, bias=bias)
            add_block(layers, f"up{stage}", up, norm_2d(norm, out, norm_affine), activation(act))
            width = out
        # 64 x 32 x 32 -> channels x 64 x 64, no normalisation on the output layer
        if final_conv:
            layers["to_image"] = SameConv(width, channels, kernel_size, bias=True)
        else:
            layers["to_image"] = upsample_conv(width, channels, kernel_size, upsample, bias=True)
        if output != "none":
            layers["output"] = activation(output)
        self.net = nn.Sequential(layers)
        self.latent_dim = latent_dim
        init_weights(self, init)


class DCGANDiscriminator(Discriminator):
    """image -> (strided conv, norm, LeakyReLU) blocks down to start x start -> [dense] -> one logit."""

    def __init__(
        self,
        image_size: int,
        channels: int,
        filters: int = 64,
        kernel_size: int = 4,
        norm: str = "batch",
        norm_affine: bool = True,
        slope: float = 0.2,
        dropout: float = 0.0,
        downsample: str = "stride",
        start_size: int = 4,
        dense: Sequence[int] = (),
        init: str = "dcgan",
    ):
        super().__init__()
        bias = norm in ("none", "spectral")
        layers = OrderedDict()

        def act() -> nn.Module:
            return nn.Sequential(activation("leaky_relu", slope), nn.Dropout(dropout)) if dropout else activation("leaky_relu", slope)

        # channels x 64 x 64 -> 64 x 32 x 32, no normalisation on the input layer
        first = downsample_conv(channels, filters, kernel_size, bias=True, mode=downsample)
        add_block(layers, "from_image", with_spectral_norm(first, norm), None, act())
        width = filters
        for stage in range(2, num_stages(image_size, start_size) + 1):
            # 64x32x32 -> 128x16x16 -> 256x8x8 -> 512x4x4
            down = downsample_conv(width, width * 2, kernel_size, bias=bias, mode=downsample)
            width *= 2
            add_block(layers, f"down{stage}", with_spectral_norm(down, norm), norm_2d(norm, width, norm_affine), act())
        if dense:
            # 512 x 4 x 4 -> flattened -> dense layers -> 1
            layers["flatten"] = nn.Flatten()
            features = width * start_size * start_size
            for i, size in enumerate(dense, start=1):
                linear = with_spectral_norm(nn.Linear(features, size, bias=bias), norm)
                add_block(layers, f"dense{i}", linear, norm_1d(norm, size, norm_affine), act())
                features = size
            layers["to_logit"] = with_spectral_norm(nn.Linear(features, 1), norm)
        else:
            # 512 x 4 x 4 -> 1 x 1 x 1: a logit (the loss applies the sigmoid)
            layers["to_logit"] = with_spectral_norm(DenseHead(width, 1, start_size, bias=True), norm)
        self.net = nn.Sequential(layers)
        init_weights(self, init)
