"""What every command that loads a trained run shares: the checkpoint= and device= options, and opening the run.

These commands parse and check their options before torch is imported (a refused option answers in well
under a second); what needs torch is imported once the options are known to be good.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gan_lab.config.options import Option, Parsed, optional_text, parse_options, usage
from gan_lab.errors import UserError

if TYPE_CHECKING:
    import torch

    from gan_lab.runs.trained import LoadedRun

CHECKPOINT = Option(
    "checkpoint", optional_text, None, "a checkpoint file or its name in checkpoints/ (default: the newest step_*.pt)"
)
DEVICE = Option("device", str, "auto", "auto (CUDA when present), cpu, cuda, cuda:N")


def device_option(name: str) -> torch.device:
    """The device= option: auto (CUDA when present, else CPU), cpu, cuda, cuda:N."""
    from gan_lab.training.device import resolve_device

    try:
        return resolve_device(name)
    except UserError as error:
        raise UserError(str(error).replace("trainer.device", "device")) from None


def open_run(command: str, args: list[str], options: list[Option], summary: str, extra: str = "") -> tuple[Parsed, LoadedRun] | None:
    """Parse `<run dir> key=value ...` and load the run's checkpoint; None after printing the usage (-h)."""
    o = parse_options(command, args, options)
    if o.run_dir is None:
        print(usage(command, summary, options, extra=extra))
        return None
    from gan_lab.runs.trained import load_run

    return o, load_run(o.run_dir, o["checkpoint"], device_option(o["device"]))
