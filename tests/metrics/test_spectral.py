"""The Nyquist power fraction sees checkerboards and ignores smooth images."""

from __future__ import annotations

import torch

from gan_lab.data.shapes import draw_shapes
from gan_lab.metrics.spectral import checkerboard_score, nyquist_power_fraction


def test_pure_checkerboard_is_all_nyquist():
    board = torch.tensor([[1.0, -1.0], [-1.0, 1.0]]).repeat(8, 8)[None, None]
    assert torch.allclose(nyquist_power_fraction(board), torch.tensor([1.0]))


def test_smooth_images_have_almost_none():
    ramp = torch.linspace(-1, 1, 32).view(1, 1, 1, 32).expand(2, 3, 32, 32)
    assert nyquist_power_fraction(ramp).max() < 0.01
    shapes = draw_shapes(16, 64, 1).float()
    assert nyquist_power_fraction(shapes).mean() < 0.01


def test_checkerboard_score_is_relative_to_real():
    real = draw_shapes(16, 32, 3).float() / 127.5 - 1
    board = torch.tensor([[1.0, -1.0], [-1.0, 1.0]]).repeat(16, 16).expand(16, 3, 32, 32)
    assert abs(checkerboard_score(real, real) - 1.0) < 1e-6
    assert checkerboard_score(real + 0.2 * board, real) > 10
