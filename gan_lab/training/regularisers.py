"""Zero-centred gradient penalties on D (`reg=r1|r1_r2`): R1 on real images, R2 on generated ones.

R1 (Mescheder et al. 2018) penalises gamma/2 E||grad_x D(x)||^2 at real x; R2 the same at generated x
(R3GAN, Huang et al. 2024, uses both with the relativistic loss). Lazy regularisation (StyleGAN2):
the penalty is added on every N-th D step only, multiplied by N, so its average weight stays gamma.
The penalty's double backward runs in fp32, outside bf16 autocast.
"""

from __future__ import annotations

import torch
import torch.nn as nn


def zero_centred_penalty(D: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """E over the batch of ||grad_x D(x)||^2 (fp32; differentiable in D's weights)."""
    x = x.detach().float().requires_grad_(True)
    with torch.autocast(x.device.type, enabled=False):
        (grad,) = torch.autograd.grad(D(x).float().sum(), x, create_graph=True)
    return grad.square().flatten(1).sum(1).mean()


class Regulariser:
    """R1 / R2 with weight gamma on every `every`-th D step (scaled by `every`); counts D steps itself."""

    def __init__(self, name: str = "none", gamma: float = 0.0, every: int = 1):
        self.name, self.gamma, self.every = name, float(gamma), int(every)
        self.d_steps = 0  # D steps so far (saved in checkpoints: lazy steps fall on the same steps after resume)

    @classmethod
    def from_config(cls, cfg) -> "Regulariser":
        return cls() if cfg is None else cls(cfg.name, cfg.gamma, cfg.every)

    def penalty(self, D: nn.Module, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor | None:
        """The penalty to add to D's loss at this D step, or None on the steps lazy regularisation skips."""
        due = self.name != "none" and self.gamma > 0 and self.d_steps % self.every == 0
        self.d_steps += 1
        if not due:
            return None
        total = zero_centred_penalty(D, real)
        if self.name == "r1_r2":
            total = total + zero_centred_penalty(D, fake)
        return 0.5 * self.gamma * self.every * total

    def state_dict(self) -> dict:
        return {"d_steps": self.d_steps}

    def load_state_dict(self, state: dict) -> None:
        self.d_steps = int(state["d_steps"])
