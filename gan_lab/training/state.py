"""What a checkpoint holds for the trainer: everything needed to continue a run exactly where it stopped.

Weights, optimisers, EMA, every RNG (one per process under torchrun), the data order, the partial
logging interval, the skipped-step count, ADA's p and the lazy-penalty count, so N + N steps with a
resume in between equal 2N straight.
"""

from __future__ import annotations

from pathlib import Path

from omegaconf import OmegaConf

from gan_lab.errors import UserError
from gan_lab.runs.checkpoint import load_module_state
from gan_lab.training import distributed
from gan_lab.training.device import rng_state, set_rng_state
from gan_lab.training.optimizers import load_optimizer_state


def trainer_state(trainer, step: int) -> dict:
    """The checkpoint payload of a Trainer at `step` (every rank takes part: it gathers their RNG states)."""
    return {
        "G": trainer.G.state_dict(),
        **({"G_ema": trainer.ema.model.state_dict()} if trainer.ema is not None else {}),
        "D": trainer.D.state_dict(),
        "opt_G": trainer.opt_G.state_dict(),
        "opt_D": trainer.opt_D.state_dict(),
        "step": step,
        "config": OmegaConf.to_container(trainer.cfg, resolve=True),
        "rng": rng_state(),
        **({"rng_ranks": distributed.gather_state(rng_state(), trainer.world)} if trainer.world.size > 1 else {}),
        "data": trainer.source.state_dict(),
        "interval": {"sums": trainer._sums.cpu(), "count": trainer._count},
        "skipped_steps": trainer.nonfinite.skipped_steps,
        "augment": trainer.augment.state_dict(),  # ADA's p continues where it was
        "reg": trainer.reg.state_dict(),  # lazy penalties fall on the same D steps
    }


def restore_trainer_state(trainer, payload: dict, path: Path) -> None:
    """Load what trainer_state() saved into a Trainer built from the same config."""
    load_module_state(trainer.G, payload["G"], "G", path)
    load_module_state(trainer.D, payload["D"], "D", path)
    if trainer.ema is not None:
        load_module_state(trainer.ema.model, payload.get("G_ema", payload["G"]), "G_ema", path)
    load_optimizer_state(trainer.opt_G, payload["opt_G"])
    load_optimizer_state(trainer.opt_D, payload["opt_D"])
    trainer.step = int(payload["step"])
    world = trainer.world
    ranks = payload.get("rng_ranks") or [payload.get("rng")]
    if len(ranks) != world.size:
        raise UserError(
            f"{path} was saved by {len(ranks)} process(es); resume it with the same number "
            f"(torchrun --nproc_per_node={len(ranks)}), not {world.size}"
        )
    if ranks[world.rank] is not None:
        set_rng_state(ranks[world.rank])
    if "data" in payload:
        trainer.source.load_state_dict(payload["data"])
    if "interval" in payload and payload["interval"]["sums"].shape == trainer._sums.shape:
        trainer._sums.copy_(payload["interval"]["sums"])
        trainer._count = int(payload["interval"]["count"])
    trainer.nonfinite.skipped_steps = int(payload.get("skipped_steps", 0))
    if "augment" in payload:
        trainer.augment.load_state_dict(payload["augment"])
    if "reg" in payload:
        trainer.reg.load_state_dict(payload["reg"])
