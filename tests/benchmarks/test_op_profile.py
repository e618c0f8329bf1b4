"""The benchmark's time-by-operator-kind profile (`--profile`): what goes where, and the ceiling."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.autograd.profiler import record_function

from benchmarks.op_profile import KINDS, convolution_ceiling, kind_of_operator, ms_per_step_by_kind, profile_lines


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("aten::convolution_backward", "convolution/matmul"),
        ("aten::mkldnn_convolution", "convolution/matmul"),
        ("aten::addmm", "convolution/matmul"),
        ("aten::native_batch_norm_backward", "batchnorm"),
        ("aten::leaky_relu_backward", "activations"),
        ("aten::threshold_backward", "activations"),
        ("aten::binary_cross_entropy_with_logits", "other"),
        ("aten::copy_", "other"),
    ],
)
def test_an_operator_is_filed_under_its_kind(name, kind):
    assert kind_of_operator(name) == kind


class Loop:
    def __init__(self, step):
        self.step = step


def test_a_profiled_step_splits_its_time_by_kind():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.LeakyReLU(0.2))
    optimizer = torch.optim.Adam(net.parameters(), foreach=False)  # per-parameter ops, inside Optimizer.step
    x = torch.randn(4, 3, 16, 16)

    def step():
        with record_function("gan_lab/data"):
            batch = x * 2.0
        net(batch).square().mean().backward()
        optimizer.step()

    ms = ms_per_step_by_kind(Loop(step), steps=3)
    assert list(ms) == list(KINDS)
    assert all(ms[kind] > 0 for kind in KINDS)


def test_only_the_optimiser_step_counts_as_optimizer():
    p = nn.Parameter(torch.randn(1000))
    p.grad = torch.randn(1000)
    optimizer = torch.optim.Adam([p], foreach=False)
    ms = ms_per_step_by_kind(Loop(optimizer.step), steps=2)
    assert ms["optimizer"] > 0
    assert [kind for kind in KINDS if kind != "optimizer" and ms[kind] > 0] == []


def test_the_ceiling_is_the_reference_step_over_gan_labs_convolution_time():
    ours = dict.fromkeys(KINDS, 5.0) | {"convolution/matmul": 40.0}
    assert convolution_ceiling(100.0, ours) == pytest.approx(2.5)
    lines = profile_lines(ours, dict.fromkeys(KINDS, 10.0), 100.0)
    assert any(line.split()[:2] == ["convolution/matmul", "40.0"] for line in lines)
    assert lines[-2].split()[1:] == ["65.0", "60.0"]  # the totals
    assert "2.50x" in lines[-1]
