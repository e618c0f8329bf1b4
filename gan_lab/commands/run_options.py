"""The options every command that loads a trained run shares: checkpoint= and device=."""

from __future__ import annotations

import torch

from gan_lab.config.options import Option, optional_text
from gan_lab.errors import UserError
from gan_lab.training.device import resolve_device

CHECKPOINT = Option(
    "checkpoint", optional_text, None, "a checkpoint file or its name in checkpoints/ (default: the newest step_*.pt)"
)
DEVICE = Option("device", str, "auto", "auto (CUDA when present), cpu, cuda, cuda:N")


def device_option(name: str) -> torch.device:
    """The device= option: auto (CUDA when present, else CPU), cpu, cuda, cuda:N."""
    try:
        return resolve_device(name)
    except UserError as error:
        raise UserError(str(error).replace("trainer.device", "device")) from None
