"""Model builders: exact output shapes for every size, kernel and upsampling mode; DCGAN rules."""

from __future__ import annotations

import logging

import pytest
import torch
import torch.nn as nn

from gan_lab.doctor.static import kernel_stride_mismatches, warn_about_models
from gan_lab.models.dcgan import DCGANDiscriminator, DCGANGenerator
from gan_lab.models.layers import UPSAMPLE_MODES, parameterised_layers


@pytest.mark.parametrize("upsample", UPSAMPLE_MODES)
@pytest.mark.parametrize("kernel_size", range(2, 8))
@pytest.mark.parametrize("image_size", [16, 32, 64, 128])
def test_generator_and_discriminator_shapes(image_size, kernel_size, upsample):
    G = DCGANGenerator(8, image_size, 3, filters=4, kernel_size=kernel_size, upsample=upsample)
    D = DCGANDiscriminator(image_size, 3, filters=4, kernel_size=kernel_size)
    images = G(torch.randn(2, 8))
    assert images.shape == (2, 3, image_size, image_size)
    assert images.min() >= -1 and images.max() <= 1
    assert D(images).shape == (2,)


@pytest.mark.parametrize("channels", [1, 3])
def test_channels(channels):
    G = DCGANGenerator(8, 32, channels, filters=4)
    assert G(torch.randn(3, 8)).shape == (3, channels, 32, 32)


def test_no_batchnorm_on_g_output_or_d_input():
    G, D = DCGANGenerator(8, 32, 3, filters=4), DCGANDiscriminator(32, 3, filters=4)
    g_names = [n for n, _ in parameterised_layers(G)]
    d_names = [n for n, _ in parameterised_layers(D)]
    assert g_names[-1] == "to_image" and not g_names[-1].endswith("bn")
    assert d_names[0] == "from_image" and d_names[1] == "down2"
    assert any(isinstance(m, nn.BatchNorm2d) for m in G.modules())
    no_bn = DCGANGenerator(8, 32, 3, filters=4, norm="none")
    assert not any(isinstance(m, nn.BatchNorm2d) for m in no_bn.modules())


def test_dcgan_init():
    G = DCGANGenerator(100, 64, 3, filters=64)
    weights = torch.cat([m.weight.flatten() for m in G.modules() if isinstance(m, nn.ConvTranspose2d)])
    assert abs(weights.std().item() - 0.02) < 0.002 and abs(weights.mean().item()) < 0.002


def test_layer_order_counts_from_input_side():
    G, D = DCGANGenerator(8, 32, 3, filters=4), DCGANDiscriminator(32, 3, filters=4)
    assert parameterised_layers(G)[0][0] == "project" and parameterised_layers(G)[-1][0] == "to_image"
    assert parameterised_layers(D)[0][0] == "from_image" and parameterised_layers(D)[-1][0] == "to_logit"


def test_kernel_not_divisible_by_stride_warns_about_G_once(caplog):
    G, D = DCGANGenerator(8, 32, 3, filters=4, kernel_size=3), DCGANDiscriminator(32, 3, filters=4, kernel_size=3)
    assert kernel_stride_mismatches(G) == ["up1", "up2", "to_image"]
    with caplog.at_level(logging.WARNING):
        warnings = warn_about_models(G, D)
    assert [w.net for w in warnings] == ["G"] and "checkerboard" in warnings[0].message and "checkerboard" in caplog.text
    even = DCGANGenerator(8, 32, 3, filters=4, kernel_size=4), DCGANDiscriminator(32, 3, filters=4, kernel_size=4)
    assert warn_about_models(*even) == []
    # resize-conv has no strided layer in G; D's 3x3 stride-2 convs beside it are no static warning
    resize_G = DCGANGenerator(8, 32, 3, filters=4, kernel_size=3, upsample="nearest")
    assert kernel_stride_mismatches(resize_G) == [] and warn_about_models(resize_G, D) == []
