"""Process-level set-up for a run: the device and the random seeds."""

from __future__ import annotations

import random

import numpy as np
import torch

from gan_lab.errors import UserError


def resolve_device(name: str) -> torch.device:
    """'auto' -> CUDA when present, else CPU; 'cpu', 'cuda', 'cuda:N' as given (checked)."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise UserError(f"trainer.device={name} is not a device; use auto, cpu, cuda or cuda:N") from None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise UserError(f"trainer.device={name} but no CUDA GPU is available; use trainer.device=cpu or auto")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise UserError(f"trainer.device={name} but only {torch.cuda.device_count()} GPU(s) exist")
    elif device.type != "cpu":
        raise UserError(f"trainer.device={name} is not supported; use auto, cpu, cuda or cuda:N")
    return device


def resolve_precision(name: str, device: torch.device) -> torch.dtype | None:
    """The autocast dtype: bf16 where the hardware runs it natively ('auto'), else None (fp32)."""
    if name == "fp32":
        return None
    if device.type == "cuda":
        supported = torch.cuda.is_bf16_supported()
    else:
        supported = bool(torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported())
    if name == "bf16" and not supported:
        raise UserError(f"trainer.precision=bf16 but this {device.type} has no native bf16; use fp32 or auto")
    return torch.bfloat16 if supported else None


def seed_everything(seed: int) -> None:
    """Seed python, numpy and torch (CPU and every GPU)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def configure_backend(device: torch.device) -> None:
    """Fast kernels for fixed-shape training on GPU."""
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
