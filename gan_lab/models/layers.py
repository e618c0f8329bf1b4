"""Layer factories shared by the model builders: up/down-sampling, normalisation, activations, init."""

from __future__ import annotations

import math
import re
from collections import OrderedDict

import torch
import torch.nn as nn
from torch.nn.utils.parametrizations import spectral_norm

from gan_lab.config.choices import ACTIVATIONS, INITS, NORMS, UPSAMPLE_MODES  # noqa: F401 (re-exported)


# ------------------------------------------------------------------ activations
def activation(name: str, slope: float = 0.2) -> nn.Module:
    """A fresh activation module by name ('none' is the identity)."""
    if name == "relu":
        return nn.ReLU(inplace=True)
    if name == "leaky_relu":
        return nn.LeakyReLU(slope, inplace=True)
    if name == "elu":
        return nn.ELU(inplace=True)
    if name == "gelu":
        return nn.GELU()
    if name == "silu":
        return nn.SiLU(inplace=True)
    if name == "tanh":
        return nn.Tanh()
    if name == "sigmoid":
        return nn.Sigmoid()
    if name == "none":
        return nn.Identity()
    raise ValueError(f"unknown activation {name!r}; choose from {', '.join(ACTIVATIONS)}")


# ------------------------------------------------------------------ normalisation
def norm_2d(kind: str, channels: int, affine: bool = True) -> nn.Module | None:
    """A normalisation layer for conv feature maps, or None for 'none' and 'spectral'.

    'layer' normalises over channels and space (GroupNorm with one group), the usual conv LayerNorm.
    'spectral' is not a layer: it wraps the conv's weight (see `with_spectral_norm`).
    """
    if kind == "batch":
        return nn.BatchNorm2d(channels, affine=affine)
    if kind == "instance":
        return nn.InstanceNorm2d(channels, affine=affine)
    if kind == "layer":
        return nn.GroupNorm(1, channels, affine=affine)
    if kind in ("none", "spectral"):
        return None
    raise ValueError(f"unknown norm {kind!r}; choose from {', '.join(NORMS)}")


def norm_1d(kind: str, features: int, affine: bool = True) -> nn.Module | None:
    """A normalisation layer for dense features (instance norm has no meaning there: none)."""
    if kind == "batch":
        return nn.BatchNorm1d(features, affine=affine)
    if kind == "layer":
        return nn.LayerNorm(features, elementwise_affine=affine)
    if kind in ("none", "spectral", "instance"):
        return None
    raise ValueError(f"unknown norm {kind!r}; choose from {', '.join(NORMS)}")


def with_spectral_norm(layer: nn.Module, kind: str) -> nn.Module:
    """Put spectral normalisation on the layer's (innermost) conv/linear weight when kind == 'spectral'."""
    if kind == "spectral":
        spectral_norm(innermost(layer))  # registers the parametrization in place
    return layer


def add_block(layers: OrderedDict, name: str, layer: nn.Module, norm: nn.Module | None, act: nn.Module) -> None:
    """layers[name] = layer, then name_norm and name_act (skipping a missing norm and an identity)."""
    layers[name] = layer
    if norm is not None:
        layers[f"{name}_norm"] = norm
    if not isinstance(act, nn.Identity):
        layers[f"{name}_act"] = act


# ------------------------------------------------------------------ up/down-sampling
def stride2_padding(kernel_size: int) -> tuple[int, int]:
    """(padding, output_padding) that make a stride-2 (transposed) conv exactly halve (double) the size."""
    return (kernel_size - 1) // 2, kernel_size % 2


class SameConv(nn.Module):
    """A stride-1 conv that keeps the size for any kernel (an even kernel pads one more on the right)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, bias: bool = True):
        super().__init__()
        before, after = (kernel_size - 1) // 2, kernel_size // 2
        self.pad = nn.ZeroPad2d((before, after, before, after)) if before != after else nn.Identity()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size, padding=before if before == after else 0, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(self.pad(x))


class ResizeConv(nn.Module):
    """Resize-convolution (Odena et al. 2016): upsample x2 (nearest or bilinear), then a 'same' conv."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, mode: str, bias: bool):
        super().__init__()
        align = {"align_corners": False} if mode == "bilinear" else {}
        self.upsample = nn.Upsample(scale_factor=2, mode=mode, **align)
        self.conv = SameConv(in_channels, out_channels, kernel_size, bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(self.upsample(x))


class SubPixelConv(nn.Module):
    """Sub-pixel convolution (Shi et al. 2016): a 'same' conv to 4x the channels, then PixelShuffle(2).

    ICNR initialisation (Aitken et al. 2017) gives the four sub-pixels of each output channel the
    same kernel, so at initialisation it equals nearest-neighbour resize-conv: no checkerboard.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, bias: bool):
        super().__init__()
        self.conv = SameConv(in_channels, out_channels * 4, kernel_size, bias)
        self.shuffle = nn.PixelShuffle(2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.shuffle(self.conv(x))

    @torch.no_grad()
    def icnr_(self) -> None:
        """Repeat one kernel per output channel over its 4 sub-pixel channels (after any normal init)."""
        weight = self.conv.conv.weight
        base = weight[0::4].clone()  # out x in x k x k
        weight.copy_(base.repeat_interleave(4, dim=0))
        if self.conv.conv.bias is not None:
            self.conv.conv.bias.copy_(self.conv.conv.bias[0::4].repeat_interleave(4))


def upsample_conv(in_channels: int, out_channels: int, kernel_size: int, mode: str, bias: bool) -> nn.Module:
    """A layer that doubles the spatial size: transposed conv, resize-conv or sub-pixel conv."""
    if mode == "transpose":
        padding, output_padding = stride2_padding(kernel_size)
        return nn.ConvTranspose2d(
            in_channels, out_channels, kernel_size, 2, padding, output_padding=output_padding, bias=bias
        )
    if mode in ("nearest", "bilinear"):
        return ResizeConv(in_channels, out_channels, kernel_size, mode, bias)
    if mode == "pixel_shuffle":
        return SubPixelConv(in_channels, out_channels, kernel_size, bias)
    raise ValueError(f"unknown upsample mode {mode!r}; choose from {', '.join(UPSAMPLE_MODES)}")


class ConvAvgPool(nn.Module):
    """A 'same' conv followed by 2x2 average pooling: downsampling without strided kernels."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, bias: bool):
        super().__init__()
        self.conv = SameConv(in_channels, out_channels, kernel_size, bias)
        self.pool = nn.AvgPool2d(2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool(self.conv(x))


def downsample_conv(in_channels: int, out_channels: int, kernel_size: int, bias: bool, mode: str = "stride") -> nn.Module:
    """A layer that exactly halves the spatial size for any kernel: strided conv or conv + avg-pool."""
    if mode == "avgpool":
        return ConvAvgPool(in_channels, out_channels, kernel_size, bias)
    padding, _ = stride2_padding(kernel_size)
    return nn.Conv2d(in_channels, out_channels, kernel_size, 2, padding, bias=bias)


CONV_WRAPPERS = (SameConv, ResizeConv, SubPixelConv, ConvAvgPool)


def innermost(layer: nn.Module) -> nn.Module:
    """The conv inside a wrapper (ResizeConv, SameConv, ...)."""
    while isinstance(layer, CONV_WRAPPERS):
        layer = layer.conv
    return layer


# ------------------------------------------------------------------ initialisation
def init_weights(module: nn.Module, scheme: str = "dcgan") -> None:
    """Initialise every conv/linear/norm layer in place.

    dcgan: weights N(0, 0.02), norm scales N(1, 0.02), biases 0 (Radford et al.).
    normal_1: weights N(0, 1), the "far too large" init of the broken MNIST MLP in the notes.
    xavier: Glorot-uniform weights (Keras' default), biases 0.
    default: PyTorch's own initialisation, untouched.
    Sub-pixel convs get ICNR afterwards, whatever the scheme.
    """
    if scheme not in INITS:
        raise ValueError(f"unknown init {scheme!r}; choose from {', '.join(INITS)}")
    for m in module.modules():
        if scheme != "default" and isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            weight = m.parametrizations.weight.original if hasattr(m, "parametrizations") else m.weight
            if scheme == "dcgan":
                nn.init.normal_(weight, 0.0, 0.02)
            elif scheme == "normal_1":
                nn.init.normal_(weight, 0.0, 1.0)
            else:
                nn.init.xavier_uniform_(weight)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif scheme == "dcgan" and isinstance(m, (nn.BatchNorm2d, nn.BatchNorm1d)) and m.affine:
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)
    for m in module.modules():
        if isinstance(m, SubPixelConv):
            m.icnr_()


# ------------------------------------------------------------------ introspection
_PARAMETRIZED = re.compile(r"\.parametrizations\.[^.]+\.original$")


def parameterised_layers(model: nn.Module) -> list[tuple[str, list[nn.Parameter]]]:
    """(name, parameters) of every layer that owns parameters, in registration (= forward) order.

    A layer's weight under a parametrization (spectral norm) counts as that layer's. Names are
    module paths with dots as underscores, e.g. 'up1_norm'; a leading 'net.' is dropped.
    """
    modules = dict(model.named_modules())
    layers: OrderedDict[str, list[nn.Parameter]] = OrderedDict()
    for path, param in model.named_parameters():
        path = _PARAMETRIZED.sub(".weight", path)
        owner = path.rsplit(".", 1)[0] if "." in path else ""
        # A conv inside a wrapper (resize-conv, sub-pixel conv, ...) is named after the wrapper.
        while "." in owner and isinstance(modules.get(owner.rsplit(".", 1)[0]), CONV_WRAPPERS):
            owner = owner.rsplit(".", 1)[0]
        name = owner.removeprefix("net.").replace(".", "_") or "params"
        layers.setdefault(name, []).append(param)
    return list(layers.items())


def conv_output_size(size: int, kernel_size: int, stride: int = 1, padding: int = 0) -> int:
    """Spatial size after a conv (floor division, as PyTorch and Keras 'valid' compute it)."""
    return math.floor((size + 2 * padding - kernel_size) / stride) + 1
