"""DenseProjection and DenseHead compute what the convs they replace compute, in either layout."""

from __future__ import annotations

import copy

import pytest
import torch
import torch.nn as nn
from torch.nn.utils.parametrizations import spectral_norm

from gan_lab.models.matmul_convs import DenseHead, DenseProjection

LAYOUTS = [torch.contiguous_format, torch.channels_last]


def forward_backward(layer: nn.Module, x: torch.Tensor, grad: torch.Tensor | None = None):
    """(output, input gradient, weight gradient, bias gradient or None, output gradient) of one call."""
    x = x.clone().requires_grad_()
    y = layer(x)
    grad = torch.randn_like(y) if grad is None else grad
    y.backward(grad)
    weight = layer.parametrizations.weight.original if hasattr(layer, "parametrizations") else layer.weight
    return y, x.grad, weight.grad, None if layer.bias is None else layer.bias.grad, grad


def assert_same_call(new: nn.Module, plain: nn.Module, x: torch.Tensor) -> None:
    plain.load_state_dict(new.state_dict())  # same keys and shapes as the nn layer
    y_new, *grads_new, g = forward_backward(new, x)
    y_plain, *grads_plain, _ = forward_backward(plain, x, g)
    assert y_new.shape == y_plain.shape
    assert y_new.is_contiguous() == y_plain.is_contiguous(), "the output must keep the conv's memory layout"
    torch.testing.assert_close(y_new, y_plain, rtol=1e-4, atol=1e-5)
    for got, want in zip(grads_new, grads_plain):
        assert (got is None) == (want is None)
        if got is not None:
            torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("bias", [False, True])
def test_dense_projection_is_the_transposed_conv(layout, bias):
    new = DenseProjection(10, 24, 4, bias=bias).to(memory_format=layout)
    plain = nn.ConvTranspose2d(10, 24, 4, 1, 0, bias=bias).to(memory_format=layout)
    assert_same_call(new, plain, torch.randn(5, 10, 1, 1))


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("out_channels", [1, 3])
def test_dense_head_is_the_conv(layout, out_channels):
    new = DenseHead(16, out_channels, 4).to(memory_format=layout)
    plain = nn.Conv2d(16, out_channels, 4, 1, 0).to(memory_format=layout)
    assert_same_call(new, plain, torch.randn(6, 16, 4, 4).contiguous(memory_format=layout))


def test_dense_head_under_spectral_norm_is_the_conv():
    torch.manual_seed(0)
    new = spectral_norm(DenseHead(16, 1, 4))
    torch.manual_seed(0)
    plain = spectral_norm(nn.Conv2d(16, 1, 4, 1, 0))
    new.eval(), plain.eval()  # no power iteration: both normalise by the same stored vectors
    assert_same_call(new, plain, torch.randn(6, 16, 4, 4))


def test_other_input_sizes_fall_back_to_the_conv():
    project, head = DenseProjection(8, 4, 4), DenseHead(8, 2, 4)
    assert project(torch.randn(2, 8, 2, 2)).shape == (2, 4, 5, 5)
    assert head(torch.randn(2, 8, 6, 6)).shape == (2, 2, 3, 3)


def test_bf16_autocast_gives_bf16_like_the_conv():
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert DenseProjection(8, 4, 4)(torch.randn(2, 8, 1, 1)).dtype == torch.bfloat16
        assert DenseHead(8, 1, 4)(torch.randn(2, 8, 4, 4)).dtype == torch.bfloat16


def test_the_benchmark_reference_trains_the_example_layers():
    from benchmarks.reference import with_example_layers
    from gan_lab.models.dcgan import DCGANDiscriminator, DCGANGenerator

    G, D = DCGANGenerator(8, 16, 1, filters=4), DCGANDiscriminator(16, 1, filters=4)
    z = torch.randn(3, 8)
    images, logits = G(z), D(G(z))
    G_example, D_example = with_example_layers(copy.deepcopy(G)), with_example_layers(copy.deepcopy(D))
    assert type(G_example.net.project) is nn.ConvTranspose2d and type(D_example.net.to_logit) is nn.Conv2d
    assert type(G.net.project) is DenseProjection, "the original modules keep gan-lab's layers"
    torch.testing.assert_close(G_example(z), images)
    torch.testing.assert_close(D_example(images), logits)
