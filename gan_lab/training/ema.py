"""An exponential moving average of G's weights, used for sample grids (`model.ema_decay`)."""

from __future__ import annotations

import copy

import torch
import torch.nn as nn


class EMA:
    """Keeps `model` = decay * model + (1 - decay) * G after each G step; buffers are copied."""

    def __init__(self, G: nn.Module, decay: float):
        self.decay = decay
        self.model = copy.deepcopy(G).requires_grad_(False)
        self._ema_params = list(self.model.parameters())
        self._params = list(G.parameters())
        self._ema_buffers = list(self.model.buffers())
        self._buffers = list(G.buffers())

    @torch.no_grad()
    def update(self, step: int) -> None:
        # Early on, a shorter average: the initial random weights would otherwise linger for ~1/(1-decay) steps.
        decay = min(self.decay, (1 + step) / (10 + step))
        torch._foreach_lerp_(self._ema_params, self._params, 1.0 - decay)
        for ema_buffer, buffer in zip(self._ema_buffers, self._buffers):
            ema_buffer.copy_(buffer)
