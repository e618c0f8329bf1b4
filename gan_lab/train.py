"""`gan-lab train [overrides]`: compose the config with Hydra, build data and models, train."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig

from gan_lab import runname  # noqa: F401  (registers ${gan_lab_job_name:}, used by hydra.sweep.subdir)
from gan_lab.config import config_dir
from gan_lab.errors import UserError, report_and_exit
from gan_lab.validate import validate_config

log = logging.getLogger("gan_lab.train")


def run_training(cfg: DictConfig, run_dir: Path) -> dict:
    """Everything `gan-lab train` does inside one run directory; returns the summary."""
    validate_config(cfg)  # before torch loads: a typo costs a second, not ten
    from gan_lab.data import build_image_source
    from gan_lab.models import build_models
    from gan_lab.runtime import configure_backend, resolve_device, seed_everything
    from gan_lab.trainer import Trainer

    device = resolve_device(cfg.trainer.device)
    configure_backend(device)
    seed_everything(cfg.trainer.seed)
    G, D = build_models(cfg)  # the Trainer's doctor checks them before training
    source = build_image_source(cfg, device)
    log.info(
        f"training {cfg.model.name} on {cfg.dataset.name} ({len(source)} images, "
        f"{cfg.dataset.image_size} px, {cfg.dataset.channels} ch) for {cfg.trainer.steps} steps on {device}"
    )
    summary = Trainer(cfg, G, D, source, run_dir, device).fit()
    shown = _relative(run_dir)
    log.info(
        f"done: {summary['steps']} steps in {summary['wall_time_s']:.0f} s ({summary['img_per_s']:,.0f} img/s); "
        f"run dir {shown}\n  view it: tensorboard --logdir {shown}   (or: gan-lab board {shown})"
    )
    return summary


def _relative(path: Path) -> str:
    """The path as the user would type it: relative to the working directory when inside it."""
    try:
        return os.path.relpath(path) if path.resolve().is_relative_to(Path.cwd()) else str(path)
    except ValueError:
        return str(path)


@hydra.main(version_base="1.3", config_path=str(config_dir()), config_name="train")
def _hydra_main(cfg: DictConfig) -> dict | None:
    run_dir = Path(HydraConfig.get().runtime.output_dir)
    if HydraConfig.get().mode == RunMode.MULTIRUN:
        from gan_lab.sweep import run_sweep_job

        return run_sweep_job(run_training, cfg, run_dir)  # a failing job is recorded; the sweep goes on
    try:
        run_training(cfg, run_dir)
    except UserError as error:
        report_and_exit(error)


def main(args: list[str]) -> int:
    """Hand every argument after `train` to Hydra (overrides, -m, --cfg job, --help, ...)."""
    sys.argv = ["gan-lab train", *args]
    _hydra_main()
    return 0
