"""Process-level set-up for a run: the device and the random seeds."""

from __future__ import annotations

import inspect
import os
import random

import numpy as np
import torch

from gan_lab.errors import UserError

FORCE_FP32 = "GAN_LAB_FP32"  # environment variable: "1" forces fp32 everywhere


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


def fp32_forced() -> bool:
    """GAN_LAB_FP32=1: every run, test and benchmark computes in fp32, as on a CPU without native bf16."""
    return os.environ.get(FORCE_FP32) == "1"


def native_cuda_bf16(device: torch.device) -> bool:
    """bf16 in hardware (compute capability 8.0+): is_bf16_supported() alone also counts slow emulation (T4, V100)."""
    if "including_emulation" in inspect.signature(torch.cuda.is_bf16_supported).parameters:
        return torch.cuda.is_bf16_supported(including_emulation=False)
    return torch.cuda.get_device_capability(device) >= (8, 0)


def resolve_precision(name: str, device: torch.device) -> torch.dtype | None:
    """The autocast dtype: bf16 where the hardware runs it natively ('auto'), else None (fp32).

    With GAN_LAB_FP32=1 set, 'auto' is fp32 and 'bf16' is refused as on hardware without it.
    """
    if name == "fp32":
        return None
    if fp32_forced():
        supported = False
    elif device.type == "cuda":
        supported = native_cuda_bf16(device)
    else:
        supported = bool(torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported())
    if name == "bf16" and not supported:
        reason = f"{FORCE_FP32}=1 is set" if fp32_forced() else f"this {device.type} has no native bf16"
        raise UserError(f"trainer.precision=bf16 but {reason}; use fp32 or auto")
    return torch.bfloat16 if supported else None


def seed_everything(seed: int) -> None:
    """Seed python, numpy and torch (CPU and every GPU)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def rng_state() -> dict:
    """Every random generator a run draws from, as tensors and plain values (safe to torch.save)."""
    np_kind, np_keys, np_pos, np_has_gauss, np_gauss = np.random.get_state()
    return {
        "python": random.getstate(),
        "numpy": {"kind": np_kind, "keys": torch.from_numpy(np_keys.astype(np.int64)), "pos": int(np_pos),
                  "has_gauss": int(np_has_gauss), "gauss": float(np_gauss)},
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
    }  # fmt: skip


def set_rng_state(state: dict) -> None:
    """Restore what rng_state() returned (CUDA states only where the same GPUs exist)."""
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    n = state["numpy"]
    keys = n["keys"].numpy().astype(np.uint32)  # saved as int64: torch < 2.5 cannot pickle uint32 tensors
    np.random.set_state((n["kind"], keys, n["pos"], n["has_gauss"], n["gauss"]))
    torch.set_rng_state(state["torch"])
    if state["cuda"] and torch.cuda.is_available() and len(state["cuda"]) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(state["cuda"])


def configure_backend(device: torch.device, deterministic: bool = False) -> None:
    """Fast kernels for fixed-shape training on GPU, or deterministic ones (trainer.deterministic)."""
    if deterministic:
        # cuBLAS needs a fixed workspace to be deterministic; must be set before the first CUDA matmul.
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True)
        torch.backends.cudnn.benchmark = False
        torch.backends.cudnn.deterministic = True
        return
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
