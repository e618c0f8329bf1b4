"""Model builders: `model=<name>` -> (G, D)."""

from __future__ import annotations

import torch.nn as nn
from omegaconf import DictConfig

from gan_lab.models.dcgan import DCGANDiscriminator, DCGANGenerator
from gan_lab.models.layers import parameterised_layers

__all__ = ["MODELS", "build_models", "parameterised_layers"]


def _dcgan(m: DictConfig, image_size: int, channels: int) -> tuple[nn.Module, nn.Module]:
    G = DCGANGenerator(
        m.latent_dim, image_size, channels, m.filters, m.kernel_size, m.upsample, m.batchnorm
    )
    D = DCGANDiscriminator(image_size, channels, m.filters, m.kernel_size, m.batchnorm)
    return G, D


MODELS = {"dcgan": _dcgan}


def build_models(cfg: DictConfig) -> tuple[nn.Module, nn.Module]:
    """G and D for the configured model and the dataset's image size and channels."""
    return MODELS[cfg.model.name](cfg.model, cfg.dataset.image_size, cfg.dataset.channels)
