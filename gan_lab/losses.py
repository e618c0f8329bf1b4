"""Adversarial losses on D's raw outputs (logits): `loss=<name>`."""

from __future__ import annotations

import torch
import torch.nn.functional as F


class BCELoss:
    """Binary cross-entropy with logits; G uses the non-saturating loss -log D(G(z))."""

    def d_loss(
        self, real_out: torch.Tensor, fake_out: torch.Tensor, real_target: torch.Tensor, fake_target: torch.Tensor
    ) -> torch.Tensor:
        return F.binary_cross_entropy_with_logits(real_out, real_target) + F.binary_cross_entropy_with_logits(
            fake_out, fake_target
        )

    def g_loss(self, fake_out: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return F.binary_cross_entropy_with_logits(fake_out, target)


LOSSES = {"bce": BCELoss}


def build_loss(name: str) -> BCELoss:
    return LOSSES[name]()
