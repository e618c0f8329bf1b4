"""Ctrl-C and SIGTERM during training: finish the current step, save a checkpoint, stop (exit 130 / 143).

A second signal more than SIGNAL_REPEAT_S after the first stops at once; a repeat within it is the
same Ctrl-C delivered twice (`uv run` forwards it to its child).

Inside a SLURM sweep job (hydra/launcher=slurm), the signal SLURM sends before a time limit or a
preemption (submitit's, SIGUSR2 by default) is handled the same way with status "preempted": the
sweep job then hands over to submitit, which requeues it (sweeps/requeue.py).
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

from gan_lab.errors import RunStopped
from gan_lab.runs.layout import display_path

log = logging.getLogger("gan_lab.training.trainer")

EXIT_CODES = {signal.SIGINT: 130, signal.SIGTERM: 143}
SIGNAL_REPEAT_S = 1.0


def preemption_signal() -> int | None:
    """The signal SLURM sends a submitit job ahead of its time limit or a preemption; None outside one."""
    if os.environ.get("SUBMITIT_EXECUTOR") != "slurm":
        return None
    return getattr(signal, "SIG" + os.environ.get("SUBMITIT_PREEMPT_SIGNAL", "USR2"), None)


def exit_code(signum: int) -> int:
    return EXIT_CODES.get(signum, 128 + int(signum))


class StopRequests:
    """The signal that asked the run to stop (None: none yet); `caught()` installs the handlers."""

    def __init__(self):
        self.signal: int | None = None

    @contextmanager
    def caught(self, where: Callable[[], tuple[int, int, Path | None]]):
        """Handle SIGINT/SIGTERM inside the block; `where()` gives (last finished step, total steps, last checkpoint)."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        first_at = 0.0

        def handler(signum, frame):
            nonlocal first_at
            step, steps, checkpoint = where()
            # After the last step the run is only writing its outputs: no step is in progress.
            doing = f"step {step + 1}" if step < steps else f"the outputs of step {step}"
            if self.signal is None:
                self.signal, first_at = signum, time.monotonic()
                why = " (SLURM: time limit or preemption ahead)" if signum not in EXIT_CODES else ""
                log.warning(f"{signal.Signals(signum).name}{why}: finishing {doing} and saving a checkpoint")
            elif time.monotonic() - first_at > SIGNAL_REPEAT_S:
                kept = display_path(checkpoint) if checkpoint else "none"
                raise RunStopped(
                    f"stopped at once by a second {signal.Signals(signum).name} during {doing}; "
                    f"the last checkpoint is {kept}",
                    exit_code=exit_code(signum),
                    status="interrupted",
                )

        handled = [*EXIT_CODES, *([preempt] if (preempt := preemption_signal()) is not None else [])]
        previous = {sig: signal.signal(sig, handler) for sig in handled}
        try:
            yield
        finally:
            for sig, old in previous.items():
                signal.signal(sig, old)

    def stop(self, step: int, steps: int, checkpoint: Path | None, run_dir: Path) -> None:
        """Raise RunStopped for the signal received, naming the checkpoint and how to continue."""
        if self.signal == preemption_signal():
            raise RunStopped(
                f"SLURM stops the job ({signal.Signals(self.signal).name}: time limit or preemption) at step "
                f"{step}/{steps}: saved {display_path(checkpoint)}; the requeued job continues from it",
                exit_code=exit_code(self.signal),
                status="preempted",
            )
        raise RunStopped(
            f"stopped by {signal.Signals(self.signal).name} at step {step}/{steps}: saved {display_path(checkpoint)}; "
            f"continue with: gan-lab train resume={display_path(run_dir)}",
            exit_code=exit_code(self.signal),
            status="interrupted",
        )
