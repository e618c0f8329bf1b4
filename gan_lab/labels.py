"""D's and G's targets: real = 1, generated = 0 (the tricks issue adds soft, noisy and flipped labels)."""

from __future__ import annotations

import torch


class LabelTargets:
    """Targets for D's real and generated batches and for G's step."""

    def __init__(self, real: float = 1.0, fake: float = 0.0):
        self.real, self.fake = real, fake

    def d_targets(self, real_out: torch.Tensor, fake_out: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return torch.full_like(real_out, self.real), torch.full_like(fake_out, self.fake)

    def g_target(self, fake_out: torch.Tensor) -> torch.Tensor:
        """G always aims at D's 'real' value, kept hard."""
        return torch.full_like(fake_out, self.real)
