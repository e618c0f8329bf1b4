"""Console progress: a live bar on a terminal, one line per logging step otherwise (CI logs, files)."""

from __future__ import annotations

import logging
import sys
import time
from datetime import timedelta

from tqdm import tqdm

log = logging.getLogger("gan_lab.training.progress")


class Progress:
    """Shows step, losses, img/s and ETA."""

    def __init__(self, total: int, initial: int = 0, interactive: bool | None = None):
        self.total, self.initial = total, initial
        self.interactive = sys.stderr.isatty() if interactive is None else interactive
        self.started = time.perf_counter()
        self.bar = (
            tqdm(total=total, initial=initial, unit="step", dynamic_ncols=True, mininterval=0.5)
            if self.interactive
            else None
        )

    def advance(self) -> None:
        if self.bar is not None:
            self.bar.update(1)

    def report(self, step: int, loss_D: float, loss_G: float, img_per_s: float) -> None:
        """Called on logging steps with values already on the host."""
        if self.bar is not None:
            self.bar.set_postfix_str(f"D {loss_D:.3f}  G {loss_G:.3f}  {img_per_s:,.0f} img/s", refresh=False)
            return
        done = step - self.initial
        elapsed = time.perf_counter() - self.started
        eta = timedelta(seconds=round(elapsed / done * (self.total - step))) if done else "?"
        log.info(
            f"step {step}/{self.total} | loss D {loss_D:.3f} G {loss_G:.3f} | {img_per_s:,.0f} img/s | ETA {eta}"
        )

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
