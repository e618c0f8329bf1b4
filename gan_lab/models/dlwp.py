"""The Keras-book frog GAN ("Deep Learning with Python", section 8.5), layer for layer.

Keras defaults are kept where the book relies on them: 'same' padding in G, 'valid' padding in D,
LeakyReLU slope 0.3 and Glorot-uniform initialisation. Shape comments are for 32 px.
"""

from __future__ import annotations

from collections import OrderedDict

import torch.nn as nn

from gan_lab.models.base import Discriminator, Generator
from gan_lab.models.layers import SameConv, activation, conv_output_size, init_weights


class DLWPGenerator(Generator):
    """z (32) -> dense -> 128 x 16 x 16 -> conv 5 -> transposed conv 4 s2 -> 2x conv 5 -> conv 7 tanh."""

    def __init__(self, latent_dim: int, image_size: int, channels: int, filters: int = 256, slope: float = 0.3):
        super().__init__()
        half = image_size // 2
        self.net = nn.Sequential(
            OrderedDict(
                # 32 -> 128 * 16 * 16, reshaped to 128 x 16 x 16
                dense=nn.Linear(latent_dim, 128 * half * half),
                dense_act=activation("leaky_relu", slope),
                unflatten=nn.Unflatten(1, (128, half, half)),
                # 128 x 16 x 16 -> 256 x 16 x 16
                conv1=SameConv(128, filters, 5),
                conv1_act=activation("leaky_relu", slope),
                # 256 x 16 x 16 -> 256 x 32 x 32
                up=nn.ConvTranspose2d(filters, filters, 4, stride=2, padding=1),
                up_act=activation("leaky_relu", slope),
                # 256 x 32 x 32 -> 256 x 32 x 32, twice
                conv2=SameConv(filters, filters, 5),
                conv2_act=activation("leaky_relu", slope),
                conv3=SameConv(filters, filters, 5),
                conv3_act=activation("leaky_relu", slope),
                # 256 x 32 x 32 -> channels x 32 x 32
                to_image=SameConv(filters, channels, 7),
                output=nn.Tanh(),
            )
        )
        self.latent_dim = latent_dim
        init_weights(self, "xavier")


def dlwp_feature_size(image_size: int) -> int:
    """Side of D's last map with 'valid' convs: 32 -> 30 -> 14 -> 6 -> 2."""
    size = conv_output_size(image_size, 3)
    for _ in range(3):
        size = conv_output_size(size, 4, stride=2)
    return size


class DLWPDiscriminator(Discriminator):
    """image -> conv 3 -> three conv 4 stride 2 -> flatten -> dropout 0.4 -> dense logit."""

    def __init__(self, image_size: int, channels: int, filters: int = 128, slope: float = 0.3, dropout: float = 0.4):
        super().__init__()
        side = dlwp_feature_size(image_size)
        self.net = nn.Sequential(
            OrderedDict(
                # channels x 32 x 32 -> 128 x 30 x 30
                from_image=nn.Conv2d(channels, filters, 3),
                from_image_act=activation("leaky_relu", slope),
                # 128 x 30 x 30 -> 128 x 14 x 14 -> 128 x 6 x 6 -> 128 x 2 x 2
                down1=nn.Conv2d(filters, filters, 4, stride=2),
                down1_act=activation("leaky_relu", slope),
                down2=nn.Conv2d(filters, filters, 4, stride=2),
                down2_act=activation("leaky_relu", slope),
                down3=nn.Conv2d(filters, filters, 4, stride=2),
                down3_act=activation("leaky_relu", slope),
                # 128 * 2 * 2 -> 1 (a logit: the book's sigmoid lives in the loss)
                flatten=nn.Flatten(),
                dropout=nn.Dropout(dropout),
                to_logit=nn.Linear(filters * side * side, 1),
            )
        )
        init_weights(self, "xavier")
