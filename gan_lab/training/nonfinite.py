"""trainer.on_nan: what a loss, gradient or weight that goes inf or nan does to a run.

`stop` (the default) remembers the first non-finite step on the device, so the step stays free of
host-device syncs, and stops the run at the next logging step or checkpoint (exit 3), keeping the
last good checkpoint. `skip_step` checks every step (one sync each), skips that update, and gives up
after MAX_CONSECUTIVE_SKIPS in a row.
"""

from __future__ import annotations

import math
from pathlib import Path

import torch
import torch.nn as nn

from gan_lab.errors import RunStopped
from gan_lab.runs.layout import display_path
from gan_lab.training import distributed

MAX_CONSECUTIVE_SKIPS = 25


def nonfinite_weight(models: dict[str, nn.Module]) -> str | None:
    """'G.up1.conv.weight': the first parameter holding inf or nan, or None (one sync per model)."""
    for net, model in models.items():
        params = list(model.parameters())
        finite = torch.isfinite(torch.stack(torch._foreach_norm(params))).tolist()
        for (name, _), ok in zip(model.named_parameters(), finite):
            if not ok:
                return f"{net}.{name}"
    return None


class NonFiniteGuard:
    """Tracks non-finite values for one run of G and D, and stops it with one line when they appear."""

    def __init__(self, policy: str, models: dict[str, nn.Module], device: torch.device):
        self.skip = policy == "skip_step"
        self.models = models
        self.first = torch.full((), -1, dtype=torch.long, device=device)  # first non-finite step, -1: none
        self.skipped_steps = self._in_a_row = 0

    def update_allowed(self, loss: torch.Tensor, model: nn.Module, optimizer: torch.optim.Optimizer) -> bool:
        """Under skip_step: False (gradients dropped) when the loss or a gradient is non-finite."""
        if not self.skip:
            return True
        grads = [p.grad for p in model.parameters() if p.grad is not None]
        finite = torch.isfinite(loss) & torch.isfinite(torch.stack(torch._foreach_norm(grads))).all()
        if distributed.size() > 1:  # the loss is rank-local: every rank must skip the same steps
            finite = distributed.all_reduce_((~finite).to(torch.int32), "max") == 0
        if bool(finite):
            return True
        optimizer.zero_grad(set_to_none=True)
        return False

    def record(self, step: int, stats: torch.Tensor, finite: bool, last_checkpoint: Path | None) -> bool:
        """Note this step's outcome; False when its statistics must not be counted (a skipped step)."""
        if not self.skip:  # remember the first non-finite step without a host-device sync
            first = (self.first < 0) & ~torch.isfinite(stats).all()
            self.first = torch.where(first, step, self.first)
            return True
        if finite:
            self._in_a_row = 0
            return True
        self.skipped_steps += 1
        self._in_a_row += 1
        if self._in_a_row >= MAX_CONSECUTIVE_SKIPS:
            self.diverged(step, f"{MAX_CONSECUTIVE_SKIPS} steps in a row with non-finite losses or gradients", last_checkpoint)
        return False

    def check(self, first_nonfinite: int, means: dict[str, float] | None, last_checkpoint: Path | None) -> None:
        """Stop the run if a loss went non-finite at step first_nonfinite (>= 0; on_nan=stop)."""
        if self.skip or first_nonfinite < 0:
            return
        names = [tag for tag, value in (means or {}).items() if not math.isfinite(value)]
        self.diverged(first_nonfinite, f"non-finite {', '.join(names) or 'loss'}", last_checkpoint)

    def check_weights(self, step: int, last_checkpoint: Path | None) -> None:
        """Before a checkpoint: never save one with a non-finite loss or weight (every rank decides alike)."""
        if distributed.size() > 1:  # self.first is rank-local between logging steps
            distributed.all_reduce_(self.first, "max")
        self.check(int(self.first), None, last_checkpoint)
        bad = nonfinite_weight(self.models)
        if distributed.size() > 1 and distributed.any_rank(bad is not None) and not bad:
            bad = "on another rank"
        if bad:
            self.diverged(step, f"non-finite weight {bad}", last_checkpoint)

    def diverged(self, step: int, what: str, last_checkpoint: Path | None) -> None:
        """Stop with one line naming the step and the tensor; earlier checkpoints stay as they are."""
        bad = nonfinite_weight(self.models)
        weights = f" (first non-finite weight: {bad})" if bad else ""
        kept = (
            f"the last good checkpoint is {display_path(last_checkpoint)}"
            if last_checkpoint
            else "no checkpoint was saved before it"
        )
        raise RunStopped(
            f"{what} at step {step}{weights}; stopped, {kept} (lower optim.lr_G / optim.lr_D, "
            f"or set trainer.on_nan=skip_step)",
            exit_code=3,
            status="diverged",
        )
