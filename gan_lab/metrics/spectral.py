"""Spectral measures of upsampling artifacts: how much power sits at the Nyquist frequencies.

Transposed convolutions with a kernel not divisible by their stride print a checkerboard: a
period-2 pattern, i.e. power at the highest frequencies the image can hold (Odena et al. 2016).
"""

from __future__ import annotations

import torch


def nyquist_power_fraction(images: torch.Tensor) -> torch.Tensor:
    """Fraction of each image's (mean-removed) spectral power on the Nyquist row and column.

    images: N x C x H x W floats (any range). Returns N values in [0, 1]. A period-2 checkerboard
    puts all its power there; natural and smooth images put almost none.
    """
    x = images.float()
    x = x - x.mean(dim=(-2, -1), keepdim=True)
    power = torch.fft.fft2(x).abs().pow(2).sum(dim=1)  # N x H x W, summed over channels
    h, w = power.shape[-2:]
    nyquist = torch.zeros(h, w, dtype=torch.bool, device=power.device)
    nyquist[h // 2, :] = True  # vertical frequency at Nyquist (rows alternate)
    nyquist[:, w // 2] = True  # horizontal frequency at Nyquist (columns alternate)
    total = power.flatten(1).sum(1).clamp_min(1e-12)
    return power[:, nyquist].sum(1) / total


def checkerboard_score(generated: torch.Tensor, real: torch.Tensor) -> float:
    """Mean Nyquist power fraction of generated images over that of real images at the same size.

    1 means no excess; transposed-conv artifacts show up above 1.
    """
    if generated.shape[-2:] != real.shape[-2:]:
        raise ValueError(f"image sizes differ: {tuple(generated.shape[-2:])} vs {tuple(real.shape[-2:])}")
    real_fraction = nyquist_power_fraction(real).mean().clamp_min(1e-12)
    return float(nyquist_power_fraction(generated).mean() / real_fraction)
