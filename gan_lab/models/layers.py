"""Layer factories shared by the model builders: up/down-sampling convolutions and normalisation."""

from __future__ import annotations

import torch
import torch.nn as nn

from gan_lab.choices import UPSAMPLE_MODES  # noqa: F401 (re-exported for the builders)


def stride2_padding(kernel_size: int) -> tuple[int, int]:
    """(padding, output_padding) that make a stride-2 (transposed) conv exactly halve (double) the size."""
    return (kernel_size - 1) // 2, kernel_size % 2


class ResizeConv(nn.Module):
    """Resize-convolution (Odena et al. 2016): upsample x2, then a stride-1 'same' convolution."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, mode: str, bias: bool):
        super().__init__()
        self.upsample = nn.Upsample(scale_factor=2, mode=mode)
        # 'same' padding; an even kernel takes the extra pixel on the right/bottom, as padding="same" does.
        before, after = (kernel_size - 1) // 2, kernel_size // 2
        self.pad = nn.ZeroPad2d((before, after, before, after)) if before != after else nn.Identity()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size, padding=before if before == after else 0, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(self.pad(self.upsample(x)))


def upsample_conv(in_channels: int, out_channels: int, kernel_size: int, mode: str, bias: bool) -> nn.Module:
    """A layer that doubles the spatial size: a transposed conv, or a resize-conv."""
    if mode == "transpose":
        padding, output_padding = stride2_padding(kernel_size)
        return nn.ConvTranspose2d(
            in_channels, out_channels, kernel_size, 2, padding, output_padding=output_padding, bias=bias
        )
    return ResizeConv(in_channels, out_channels, kernel_size, mode, bias)


def downsample_conv(in_channels: int, out_channels: int, kernel_size: int, bias: bool) -> nn.Conv2d:
    """A strided conv that exactly halves the spatial size for any kernel size."""
    padding, _ = stride2_padding(kernel_size)
    return nn.Conv2d(in_channels, out_channels, kernel_size, 2, padding, bias=bias)


def init_dcgan_weights(module: nn.Module, std: float = 0.02) -> None:
    """The DCGAN init: conv/linear weights N(0, std), norm scales N(1, std), biases 0."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, std)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm2d, nn.BatchNorm1d)) and m.affine:
            nn.init.normal_(m.weight, 1.0, std)
            nn.init.zeros_(m.bias)


def parameterised_layers(model: nn.Module) -> list[tuple[str, list[nn.Parameter]]]:
    """(name, parameters) of every module that owns parameters, in registration (= forward) order.

    Names are module paths with dots as underscores, e.g. 'up1_bn'; a leading 'net.' is dropped.
    """
    layers = []
    for path, module in model.named_modules():
        params = list(module.parameters(recurse=False))
        if params:
            name = path.removeprefix("net.").replace(".", "_")
            layers.append((name, params))
    return layers
