"""Every model x upsample x norm combination builds and gives the data's shape; artifacts at init."""

from __future__ import annotations

import pytest
import torch
import torch.nn as nn
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from gan_lab.config.choices import NORMS, UPSAMPLE_MODES
from gan_lab.config.packaged import config_dir
from gan_lab.config.validate import validate_config
from gan_lab.metrics.spectral import nyquist_power_fraction
from gan_lab.models import build_models, parameterised_layers
from gan_lab.models.layers import SubPixelConv

SIZES = [16, 32, 64, 128]
G_NORMS = [n for n in NORMS if n != "spectral"]


def make_cfg(model: str, size: int, channels: int = 3, **model_overrides):
    overrides = [f"model={model}", f"dataset.image_size={size}", f"dataset.channels={channels}"]
    overrides += [f"model.{k}={v}" for k, v in model_overrides.items()]
    with initialize_config_dir(config_dir=str(config_dir()), version_base="1.3"):
        cfg = compose(config_name="train", overrides=overrides)
    validate_config(cfg)
    return cfg


def check_shapes(cfg, batch: int = 2) -> tuple[nn.Module, nn.Module]:
    G, D = build_models(cfg)
    size, channels = cfg.dataset.image_size, cfg.dataset.channels
    images = G(torch.randn(batch, cfg.model.latent_dim))
    assert images.shape == (batch, channels, size, size)
    assert D(images).shape == (batch,)
    return G, D


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("upsample", UPSAMPLE_MODES)
def test_dcgan_every_upsample_and_norm(size, upsample):
    for norm_G, norm_D in zip(G_NORMS + ["batch"], NORMS):
        for downsample in ("stride", "avgpool"):
            cfg = make_cfg("dcgan", size, filters=4, upsample=upsample, norm_G=norm_G, norm_D=norm_D, downsample=downsample)
            check_shapes(cfg)


@pytest.mark.parametrize("size", SIZES)
def test_dcgan_dense_layers_larger_start_and_final_conv(size):
    start = size // 4
    cfg = make_cfg("dcgan", size, 1, filters=4, start_size=start, g_dense="[32]", d_dense="[16]", g_final_conv=True, kernel_size=3)
    G, _ = check_shapes(cfg)
    names = [n for n, _ in parameterised_layers(G)]
    assert names[0] == "dense1" and names[-1] == "to_image"


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("upsample", UPSAMPLE_MODES)
def test_resnet_shapes(size, upsample):
    for norm_G, norm_D in (("batch", "none"), ("layer", "spectral"), ("none", "layer")):
        check_shapes(make_cfg("resnet", size, filters=4, upsample=upsample, norm_G=norm_G, norm_D=norm_D))


@pytest.mark.parametrize("size", SIZES + [28])
@pytest.mark.parametrize("channels", [1, 3])
def test_mlp_shapes(size, channels):
    G, D = check_shapes(make_cfg("mlp", size, channels, hidden_G="[16]", hidden_D="[16]", norm_D="spectral"))
    assert isinstance(list(G.modules())[-1], nn.Unflatten)


@pytest.mark.parametrize("size", [32, 64, 128])
def test_dlwp_shapes_and_layers(size):
    G, D = check_shapes(make_cfg("dlwp", size, filters_G=8, filters_D=8))
    assert G.latent_dim == 32
    assert [n for n, _ in parameterised_layers(G)] == ["dense", "conv1", "up", "conv2", "conv3", "to_image"]
    assert [n for n, _ in parameterised_layers(D)] == ["from_image", "down1", "down2", "down3", "to_logit"]


def test_dlwp_matches_the_book_at_32px():
    G, D = build_models(make_cfg("dlwp", 32))
    assert G.net.dense.out_features == 128 * 16 * 16
    assert G.net.up.kernel_size == (4, 4) and G.net.up.stride == (2, 2)
    assert G.net.to_image.conv.kernel_size == (7, 7)
    assert D.net.to_logit.in_features == 128 * 2 * 2 and D.net.dropout.p == 0.4


def test_batchnorm_without_affine_and_batchnorm_switch():
    G, D = build_models(make_cfg("dcgan", 32, filters=4, norm_affine=False))
    bns = [m for m in G.modules() if isinstance(m, nn.BatchNorm2d)]
    assert bns and all(not bn.affine for bn in bns)
    G, D = build_models(make_cfg("dcgan", 32, filters=4, batchnorm=False))
    assert not any(isinstance(m, nn.BatchNorm2d) for m in list(G.modules()) + list(D.modules()))


def test_spectral_norm_weight_counts_as_its_layer():
    _, D = build_models(make_cfg("dcgan", 32, filters=4, norm_D="spectral"))
    layers = dict(parameterised_layers(D))
    assert list(layers) == ["from_image", "down2", "down3", "to_logit"]
    assert len(layers["down2"]) == 2  # bias + the parametrized weight
    assert not any(isinstance(m, nn.BatchNorm2d) for m in D.modules())


def test_pixel_shuffle_icnr_starts_like_nearest_upsampling():
    layer = SubPixelConv(4, 3, 3, bias=True)
    torch.nn.init.normal_(layer.conv.conv.weight)
    layer.icnr_()
    out = layer(torch.randn(2, 4, 8, 8))
    for dy, dx in ((0, 1), (1, 0), (1, 1)):
        assert torch.allclose(out[..., 0::2, 0::2], out[..., dy::2, dx::2], atol=1e-6)


def test_latent_dist_uniform_and_ema_compose():
    cfg = make_cfg("dcgan", 32, latent_dist="uniform", ema_decay=0.999)
    assert cfg.model.latent_dist == "uniform" and cfg.model.ema_decay == 0.999


def nyquist_at_init(upsample: str, seeds=range(3)) -> float:
    fractions = []
    for seed in seeds:
        torch.manual_seed(seed)
        G, _ = build_models(make_cfg("dcgan", 128, 1, filters=8, kernel_size=3, upsample=upsample))
        with torch.no_grad():
            fractions.append(nyquist_power_fraction(G(torch.randn(8, 100))).mean())
    return float(torch.stack(fractions).mean())


def test_transposed_conv_prints_checkerboards_at_init_and_resize_conv_does_not():
    transpose, nearest = nyquist_at_init("transpose"), nyquist_at_init("nearest")
    assert transpose > 0.05 and nearest < 0.01
    assert transpose > 20 * nearest


def test_config_from_checkpoint_dict_rebuilds_same_shapes():
    cfg = make_cfg("resnet", 32, filters=4)
    G, _ = build_models(OmegaConf.create(OmegaConf.to_container(cfg, resolve=True)))
    assert G(torch.randn(1, cfg.model.latent_dim)).shape == (1, 3, 32, 32)
