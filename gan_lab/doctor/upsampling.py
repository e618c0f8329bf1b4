"""The checkerboard detector's advice, read from how G actually upsamples.

Odena et al. (2016): a transposed conv whose kernel is not divisible by its stride overlaps unevenly
and prints a period-2 pattern from the first step; one whose kernel is divisible (DCGAN's 4 / 2)
overlaps evenly but can still learn the pattern; resize-convolution cannot make it by construction,
so with it the pattern comes from training (often D rewarding it); sub-pixel conv makes it unless its
kernels start equal across the 4 sub-pixels (ICNR init).
"""

from __future__ import annotations

import torch.nn as nn

GENERIC = (
    "The samples carry a period-2 pattern (power at the Nyquist frequency). Transposed convs whose kernel is "
    "not divisible by their stride make it (Odena et al. 2016); resize-convolution (model.upsample=nearest or "
    "bilinear) cannot."
)


def upsampling_layers(G: nn.Module) -> dict[str, list[str]]:
    """G's upsampling layers by kind: 'uneven' and 'even' transposed convs, 'resize', 'pixel_shuffle'."""
    found: dict[str, list[str]] = {"uneven": [], "even": [], "resize": [], "pixel_shuffle": []}
    for name, m in G.named_modules():
        short = name.removeprefix("net.") or type(m).__name__
        if isinstance(m, nn.ConvTranspose2d) and max(m.stride) > 1:
            uneven = any(s > 1 and k % s for k, s in zip(m.kernel_size, m.stride))
            found["uneven" if uneven else "even"].append(f"{short} (kernel {m.kernel_size[0]}, stride {m.stride[0]})")
        elif isinstance(m, nn.Upsample):
            found["resize"].append(f"{short} ({m.mode})")
        elif isinstance(m, nn.PixelShuffle):
            found["pixel_shuffle"].append(short)
    return found


def _listed(layers: list[str], most: int = 3) -> str:
    return ", ".join(layers[:most]) + (f" and {len(layers) - most} more" if len(layers) > most else "")


def checkerboard_advice(G: nn.Module) -> str:
    """What to change, given G's own upsampling layers."""
    layers = upsampling_layers(G)
    if layers["uneven"]:
        return (
            f"G's transposed convs {_listed(layers['uneven'])} have a kernel not divisible by their stride: they "
            "overlap unevenly and print a period-2 pattern (Odena et al. 2016). Use a kernel divisible by the "
            "stride (model.kernel_size=4), or resize-convolution (model.upsample=nearest or bilinear) or sub-pixel "
            "conv (model.upsample=pixel_shuffle)."
        )
    if layers["even"]:
        return (
            f"G's transposed convs {_listed(layers['even'])} overlap evenly (kernel divisible by stride), yet G has "
            "learned a period-2 pattern that held over several sample grids: even transposed convs can still make "
            "it. Resize-convolution (model.upsample=nearest or bilinear) cannot; a weaker or regularised D "
            "(model.norm_D=spectral) rewards it less."
        )
    if layers["pixel_shuffle"]:
        return (
            f"G upsamples by sub-pixel conv ({_listed(layers['pixel_shuffle'])}), which prints a period-2 pattern "
            "when its 4 sub-pixel kernels drift apart. Try resize-convolution (model.upsample=nearest or bilinear)."
        )
    if layers["resize"]:
        return (
            f"G upsamples by resize-convolution ({_listed(layers['resize'])}), which makes no checkerboard by itself: "
            "G learned the pattern, often because D rewards it. Try model.upsample=bilinear, a regularised D "
            "(model.norm_D=spectral, loss=wgan_gp) or a lower optim.lr_G."
        )
    return (
        "G has no upsampling layers, yet its samples carry a period-2 pattern, learned in training (often because "
        "D rewards it): try a regularised D (model.norm_D=spectral, loss=wgan_gp) or a lower optim.lr_G."
    )
