"""Fully connected G and D on flattened images: the classic MNIST GAN of the notes.

Every knob that reproduced that GAN's four bugs is here so they can be studied: no hidden
activation (`activation: none`), N(0, 1) init (`init: normal_1`), a sigmoid G output on data in
[-1, 1] (`g_output: sigmoid`) and a sigmoid D output fed to a logits loss (`d_output: sigmoid`).
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Sequence

import torch.nn as nn

from gan_lab.models.base import Discriminator, Generator
from gan_lab.models.layers import activation, add_block, init_weights, norm_1d, with_spectral_norm


def _dense_stack(
    layers: OrderedDict, features: int, hidden: Sequence[int], act: str, slope: float, norm: str, dropout: float
) -> int:
    """Hidden dense layers (linear, norm, activation, dropout); returns the output width."""
    for i, size in enumerate(hidden, start=1):
        linear = with_spectral_norm(nn.Linear(features, size), norm)
        add_block(layers, f"dense{i}", linear, norm_1d(norm, size), activation(act, slope))
        if dropout:
            layers[f"dense{i}_dropout"] = nn.Dropout(dropout)
        features = size
    return features


class MLPGenerator(Generator):
    """z -> dense layers -> C*H*W -> output activation -> image."""

    def __init__(
        self,
        latent_dim: int,
        image_size: int,
        channels: int,
        hidden: Sequence[int] = (256, 512),
        act: str = "relu",
        output: str = "tanh",
        norm: str = "none",
        init: str = "xavier",
    ):
        super().__init__()
        layers = OrderedDict()
        # latent_dim -> 256 -> 512
        features = _dense_stack(layers, latent_dim, hidden, act, 0.2, norm, 0.0)
        # 512 -> channels * size * size, reshaped to the image
        layers["to_image"] = nn.Linear(features, channels * image_size * image_size)
        if output != "none":
            layers["output"] = activation(output)
        layers["unflatten"] = nn.Unflatten(1, (channels, image_size, image_size))
        self.net = nn.Sequential(layers)
        self.latent_dim = latent_dim
        init_weights(self, init)


class MLPDiscriminator(Discriminator):
    """image -> flattened -> dense layers -> one output (a logit unless `output` is set)."""

    def __init__(
        self,
        image_size: int,
        channels: int,
        hidden: Sequence[int] = (512, 256),
        act: str = "leaky_relu",
        slope: float = 0.2,
        output: str = "none",
        norm: str = "none",
        dropout: float = 0.0,
        init: str = "xavier",
    ):
        super().__init__()
        layers = OrderedDict()
        # channels x size x size -> channels * size * size -> 512 -> 256
        layers["flatten"] = nn.Flatten()
        features = _dense_stack(layers, channels * image_size * image_size, hidden, act, slope, norm, dropout)
        # 256 -> 1
        layers["to_logit"] = with_spectral_norm(nn.Linear(features, 1), norm)
        if output != "none":
            layers["output"] = activation(output)
        self.net = nn.Sequential(layers)
        init_weights(self, init)
