"""Model builders: `model=<name>` -> (G, D) for the dataset's image size and channels."""

from __future__ import annotations

import torch.nn as nn
from omegaconf import DictConfig

from gan_lab.models.dcgan import DCGANDiscriminator, DCGANGenerator
from gan_lab.models.dlwp import DLWPDiscriminator, DLWPGenerator
from gan_lab.models.layers import parameterised_layers
from gan_lab.models.mlp import MLPDiscriminator, MLPGenerator
from gan_lab.models.resnet import ResNetDiscriminator, ResNetGenerator

__all__ = ["MODELS", "build_models", "effective_norm", "parameterised_layers"]


def effective_norm(m: DictConfig, net: str) -> str:
    """model.norm_G / model.norm_D, with model.batchnorm=false turning 'batch' into 'none'."""
    norm = m.get(f"norm_{net}", "none")
    return "none" if norm == "batch" and not m.get("batchnorm", True) else norm


def _dcgan(m: DictConfig, size: int, channels: int) -> tuple[nn.Module, nn.Module]:
    G = DCGANGenerator(
        m.latent_dim, size, channels, m.filters, m.kernel_size, m.upsample,
        norm=effective_norm(m, "G"), norm_affine=m.norm_affine, act=m.g_activation, output=m.g_output,
        start_size=m.start_size, dense=list(m.g_dense), final_conv=m.g_final_conv, init=m.init,
    )  # fmt: skip
    D = DCGANDiscriminator(
        size, channels, m.filters, m.kernel_size,
        norm=effective_norm(m, "D"), norm_affine=m.norm_affine, slope=m.d_slope, dropout=m.d_dropout,
        downsample=m.downsample, start_size=m.start_size, dense=list(m.d_dense), init=m.init,
    )  # fmt: skip
    return G, D


def _mlp(m: DictConfig, size: int, channels: int) -> tuple[nn.Module, nn.Module]:
    G = MLPGenerator(
        m.latent_dim, size, channels, list(m.hidden_G), act=m.g_activation, output=m.g_output,
        norm=effective_norm(m, "G"), init=m.init,
    )  # fmt: skip
    D = MLPDiscriminator(
        size, channels, list(m.hidden_D), act=m.d_activation, slope=m.d_slope, output=m.d_output,
        norm=effective_norm(m, "D"), dropout=m.d_dropout, init=m.init,
    )  # fmt: skip
    return G, D


def _resnet(m: DictConfig, size: int, channels: int) -> tuple[nn.Module, nn.Module]:
    G = ResNetGenerator(
        m.latent_dim, size, channels, m.filters, m.kernel_size, m.upsample,
        norm=effective_norm(m, "G"), act=m.g_activation, alpha=m.residual_scale, init=m.init,
    )  # fmt: skip
    D = ResNetDiscriminator(
        size, channels, m.filters, m.kernel_size,
        norm=effective_norm(m, "D"), slope=m.d_slope, alpha=m.residual_scale, init=m.init,
    )  # fmt: skip
    return G, D


def _dlwp(m: DictConfig, size: int, channels: int) -> tuple[nn.Module, nn.Module]:
    G = DLWPGenerator(m.latent_dim, size, channels, m.filters_G, m.slope)
    D = DLWPDiscriminator(size, channels, m.filters_D, m.slope, m.d_dropout)
    return G, D


MODELS = {"dcgan": _dcgan, "mlp": _mlp, "resnet": _resnet, "dlwp": _dlwp}


def build_models(cfg: DictConfig) -> tuple[nn.Module, nn.Module]:
    """G and D for the configured model and the dataset's image size and channels."""
    return MODELS[cfg.model.name](cfg.model, cfg.dataset.image_size, cfg.dataset.channels)
