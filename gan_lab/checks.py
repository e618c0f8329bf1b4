"""Checks on G and D before training: known failure patterns that need no data."""

from __future__ import annotations

import logging

import torch.nn as nn

log = logging.getLogger(__name__)


def kernel_stride_mismatches(model: nn.Module) -> list[str]:
    """Names of strided (transposed) convs whose kernel size is not divisible by their stride.

    Such layers overlap unevenly and print checkerboard patterns (Odena et al. 2016).
    """
    found = []
    for name, m in model.named_modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            for k, s in zip(m.kernel_size, m.stride):
                if s > 1 and k % s:
                    found.append(name.removeprefix("net."))
                    break
    return found


def warn_about_models(G: nn.Module, D: nn.Module, cfg=None) -> list[str]:
    """Log one warning per problem found; returns the warnings."""
    warnings = []
    if cfg is not None and cfg.loss.name == "wgan_gp" and any(
        isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)) for m in D.modules()
    ):
        warnings.append(
            "warning: loss=wgan_gp with BatchNorm in D: the gradient penalty assumes each image's "
            "output depends on that image alone (use model.norm_D=layer or none)"
        )
    for net, model, kind in (("G", G, "transposed convs"), ("D", D, "strided convs")):
        bad = kernel_stride_mismatches(model)
        if bad:
            warnings.append(
                f"warning: {len(bad)} {kind} of {net} ({', '.join(bad)}) have a kernel size not divisible by "
                f"their stride: expect checkerboard artifacts (use an even model.kernel_size"
                + (", or model.upsample=nearest" if net == "G" else "")
                + ")"
            )
    for line in warnings:
        log.warning(line)
    return warnings
