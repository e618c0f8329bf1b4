"""DCGAN's dense layers written as convolutions, computed as the one matrix multiply they are.

G's "project and reshape" (a stride-1 transposed conv on a 1x1 map) and D's logit layer (a conv whose
kernel covers the whole map) are dense layers; oneDNN runs them through its convolution kernels,
2-4x slower than a matmul (forward + backward, AMD EPYC, 2 cores, fp32). Each class extends the nn
layer it replaces and keeps its parameters (names, shapes, layout), its initialisation and its maths,
so checkpoints, init_weights and the doctor see an ordinary conv; an input of any other size falls
back to the parent class.
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F


def _is_channels_last(t: torch.Tensor) -> bool:
    return not t.is_contiguous() and t.is_contiguous(memory_format=torch.channels_last)


class DenseProjection(nn.ConvTranspose2d):
    """latent (N, C, 1, 1) -> (N, out, size, size): DCGAN's "project and reshape"."""

    def __init__(self, in_channels: int, out_channels: int, size: int, bias: bool = True):
        super().__init__(in_channels, out_channels, size, 1, 0, bias=bias)

    def forward(self, x: torch.Tensor, output_size: list[int] | None = None) -> torch.Tensor:
        if x.shape[-2:] != (1, 1) or output_size is not None:
            return super().forward(x, output_size)
        w, n, area = self.weight, x.shape[0], self.kernel_size[0] * self.kernel_size[1]
        if _is_channels_last(w):  # the output in the weight's layout, as the conv writes it
            bias = None if self.bias is None else self.bias.repeat(area)
            y = F.linear(x.flatten(1), w.permute(0, 2, 3, 1).reshape(w.shape[0], -1).t(), bias)
            return y.view(n, *self.kernel_size, -1).permute(0, 3, 1, 2)
        bias = None if self.bias is None else self.bias.repeat_interleave(area)
        return F.linear(x.flatten(1), w.reshape(w.shape[0], -1).t(), bias).view(n, -1, *self.kernel_size)


class DenseHead(nn.Conv2d):
    """(N, C, size, size) -> (N, out, 1, 1), a kernel covering the whole map: D's logit layer."""

    def __init__(self, in_channels: int, out_channels: int, size: int, bias: bool = True):
        super().__init__(in_channels, out_channels, size, 1, 0, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-2:] != self.kernel_size:
            return super().forward(x)
        w = self.weight
        if _is_channels_last(x):  # flatten in the order the input is stored: a view, no copy
            y = F.linear(x.permute(0, 2, 3, 1).flatten(1), w.permute(0, 2, 3, 1).flatten(1), self.bias)
        else:
            y = F.linear(x.flatten(1), w.flatten(1), self.bias)
        return y.view(x.shape[0], -1, 1, 1)
