"""The device and precision of a run: GAN_LAB_FP32=1 forces fp32 everywhere."""

from __future__ import annotations

import pytest
import torch

from gan_lab.errors import UserError
from gan_lab.training.device import resolve_precision

CPU = torch.device("cpu")


def test_fp32_forced_makes_auto_fp32_and_refuses_bf16(monkeypatch):
    monkeypatch.setenv("GAN_LAB_FP32", "1")
    assert resolve_precision("auto", CPU) is None
    assert resolve_precision("fp32", CPU) is None
    with pytest.raises(UserError, match="trainer.precision=bf16 but GAN_LAB_FP32=1 is set; use fp32 or auto"):
        resolve_precision("bf16", CPU)


def test_auto_follows_the_hardware_without_the_variable(monkeypatch):
    monkeypatch.delenv("GAN_LAB_FP32", raising=False)
    native = bool(torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported())
    assert resolve_precision("auto", CPU) == (torch.bfloat16 if native else None)
    monkeypatch.setenv("GAN_LAB_FP32", "0")  # only "1" forces
    assert resolve_precision("auto", CPU) == (torch.bfloat16 if native else None)
