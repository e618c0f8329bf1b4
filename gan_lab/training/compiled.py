"""trainer.compile=true: torch.compile the modules the steps call, and fall back to eager when compiling fails.

Compiling happens at the first step. If it fails there (no C++ compiler, an unsupported op), the
step is undone (weights, optimisers, data order and every RNG restored) and run again eagerly.
"""

from __future__ import annotations

import copy
import logging
import traceback

import torch

from gan_lab.training.device import rng_state, set_rng_state

log = logging.getLogger("gan_lab.training.trainer")


def first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0][:200]


COMPILER_FILES = ("torch/_dynamo/", "torch/_inductor/", "torchinductor_")  # the last: inductor's generated code


def is_compile_error(error: BaseException) -> bool:
    """An error raised by torch.compile's machinery (dynamo, inductor, the code inductor generated), not by the model.

    Inductor's generated code raises plain AssertionErrors (a stride check failed on CUDA with torch 2.11), so
    the traceback's files count as well as the error's type.
    """
    module = type(error).__module__ or ""
    if module.startswith(("torch._dynamo", "torch._inductor")) or "compile" in type(error).__name__.lower():
        return True
    files = [frame.filename.replace("\\", "/") for frame in traceback.extract_tb(error.__traceback__)]
    return any(marker in name for name in files for marker in COMPILER_FILES)


def memory_format(channels_last: bool, compile: bool, device: torch.device) -> torch.memory_format:
    """channels_last as configured, except for torch.compile on CUDA: its channels_last convolution backward
    failed inductor's stride check there (torch 2.11, H200), and contiguous compiled steps train."""
    if channels_last and compile and device.type == "cuda":
        log.info("trainer.compile=true on CUDA: training in the contiguous memory layout (channels_last off)")
        return torch.contiguous_format
    return torch.channels_last if channels_last else torch.contiguous_format


def in_dtype_of(real: torch.Tensor, fake: torch.Tensor, compiled: bool) -> torch.Tensor:
    """The real batch in the generated batch's dtype when D is compiled: torch.compile traces D once per input
    dtype, and under bf16 autocast G's output is bf16 while the data is fp32. Eager D gets the batch as it is."""
    return real.to(fake.dtype) if compiled else real


def compile_modules(modules: tuple) -> tuple | None:
    """The modules wrapped by torch.compile, or None (with a warning) where torch.compile is unavailable."""
    try:
        return tuple(torch.compile(m) for m in modules)
    except Exception as error:  # torch.compile unsupported on this platform or Python
        log.warning(f"warning: trainer.compile=true but torch.compile is unavailable ({first_line(error)}); running eager")
        return None


def first_compiled_step(trainer, step: int, record_norms: bool) -> None:
    """Run the trainer's first (compiling) step; if compiling fails, undo it and run it eagerly."""
    before = copy.deepcopy({"rng": rng_state(), "data": trainer.source.state_dict(),
                            **{k: getattr(trainer, k).state_dict() for k in ("G", "D", "opt_G", "opt_D")}})  # fmt: skip
    try:
        trainer.train_step(step, record_norms)
    except Exception as error:
        if not is_compile_error(error):
            raise
        log.warning(f"warning: torch.compile failed ({first_line(error)}); continuing without trainer.compile")
        set_rng_state(before.pop("rng"))
        trainer.source.load_state_dict(before.pop("data"))
        for key, state in before.items():
            getattr(trainer, key).load_state_dict(state)
        trainer.use_eager_modules()
        trainer.train_step(step, record_norms)
