"""`gan-lab train [overrides]`: compose the config with Hydra, build data and models, train."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig

from gan_lab.commands.completion import HYDRA_FLAG, is_hydra_flag
from gan_lab.config.packaged import config_dir
from gan_lab.config.validate import validate_config
from gan_lab.errors import UserError, report_and_exit
from gan_lab.runs.layout import check_writable, display_path, remove_refused_run
from gan_lab.runs.lock import RunLock, check_unlocked
from gan_lab.sweeps import job_names  # noqa: F401  (registers ${gan_lab_job_name:}, used by hydra.sweep.subdir)
from gan_lab.training import distributed

log = logging.getLogger("gan_lab.commands.train")
EXISTED_BEFORE: list[Path] = []  # the run directory's nearest folder that existed before Hydra made it (set by main)


def run_training(cfg: DictConfig, run_dir: Path) -> dict:
    """Everything `gan-lab train` does inside one run directory; returns the summary."""
    validate_config(cfg)  # before torch loads: a typo costs a second, not ten
    world = distributed.world_from_env()
    lock = RunLock(run_dir)
    if world.is_main:
        check_writable(run_dir)
        from gan_lab.training.resources import check_resources

        check_resources(cfg, run_dir)  # resumed runs and sweep jobs too
        lock.acquire()  # one writer per run directory; refused while another training holds it
    completed = False
    try:
        summary = _train(cfg, run_dir, world)
        completed = True
        return summary
    finally:
        lock.release()
        if world.size > 1:
            distributed.finish(world, completed)


def _train(cfg: DictConfig, run_dir: Path, world: distributed.World) -> dict:
    from gan_lab.data import build_image_source
    from gan_lab.models import build_models
    from gan_lab.runs.checkpoint import load_checkpoint
    from gan_lab.training.device import configure_backend, resolve_device, seed_everything
    from gan_lab.training.resume import check_resumable
    from gan_lab.training.trainer import Trainer

    checkpoint = None
    if cfg.resume:  # already checked before Hydra started (resume.hydra_arguments); cheap to repeat
        path = Path(cfg.resume)
        checkpoint = load_checkpoint(path)
        check_resumable(checkpoint, cfg, path)
        if world.is_main:
            _abandon_newer_work(run_dir, int(checkpoint["step"]))
    if world.size > 1:
        device = distributed.start(world, cfg.trainer.device)
        run_dir = distributed.shared_run_dir(world, run_dir)
    else:
        device = resolve_device(cfg.trainer.device)
    configure_backend(device, cfg.trainer.deterministic)
    seed_everything(cfg.trainer.seed + world.rank)  # own noise per rank; DDP gives every rank rank 0's weights
    G, D = build_models(cfg)  # the Trainer's doctor checks them before training
    source = build_image_source(cfg, device, shard=(world.rank, world.size))
    trainer = Trainer(cfg, G, D, source, run_dir, device, world)
    if checkpoint is not None:
        trainer.load_state_dict(checkpoint, path)
        log.info(f"resuming {display_path(run_dir)} from step {trainer.step} ({display_path(path)})")
    processes = f" x {world.size} processes" if world.size > 1 else ""
    log.info(
        f"training {cfg.model.name} on {cfg.dataset.name} ({len(source)} images, "
        f"{cfg.dataset.image_size} px, {cfg.dataset.channels} ch) for {cfg.trainer.steps} steps on {device}{processes}"
    )
    first_step = trainer.step
    summary = trainer.fit()
    shown = display_path(run_dir)
    trained = summary["steps"] - first_step  # img/s and wall time are this session's too
    steps = f"{trained} steps" if first_step == 0 else f"{trained} steps (step {first_step} to {summary['steps']})"
    if summary["status"] == "time_limit":
        log.info(
            f"trainer.time_limit={cfg.trainer.time_limit} reached at step {summary['steps']}/{cfg.trainer.steps}; "
            f"continue with: gan-lab train resume={shown} (a new trainer.time_limit= sets the next budget)"
        )
    log.info(
        f"done: {steps} in {summary['wall_time_s']:.0f} s ({summary['img_per_s']:,.0f} img/s); "
        f"run dir {shown}\n  view it: tensorboard --logdir {shown}   (or: gan-lab board {shown})"
    )
    return summary


def _abandon_newer_work(run_dir: Path, step: int) -> None:
    from gan_lab.runs.timeline import abandon_after

    branch = abandon_after(run_dir, step)
    if branch is not None:
        log.info(f"resuming from step {step}: the later checkpoints, sample grids and event records are moved to {display_path(branch)}")


@hydra.main(version_base="1.3", config_path=str(config_dir()), config_name="train")
def _hydra_main(cfg: DictConfig) -> dict | None:
    run_dir = Path(HydraConfig.get().runtime.output_dir)
    if HydraConfig.get().mode == RunMode.MULTIRUN:
        from gan_lab.sweeps.callback import run_sweep_job

        return run_sweep_job(run_training, cfg, run_dir)  # a failing job is recorded; the sweep goes on
    try:
        run_training(cfg, run_dir)
    except UserError as error:
        if EXISTED_BEFORE:
            remove_refused_run(run_dir, EXISTED_BEFORE[-1])  # a refused run leaves no trace
        report_and_exit(error)


def hydra_arguments(args: list[str]) -> list[str]:
    """Check the command line before Hydra writes anything; expand resume= into the run's own overrides."""
    from gan_lab.config import preflight
    from gan_lab.training import resume
    if any(is_hydra_flag(arg) for arg in args):
        raise UserError(HYDRA_FLAG)
    flags, overrides = preflight.split_arguments(args)
    parsed = preflight.parse_overrides(overrides)
    preflight.check_group_choices(parsed)
    if any(flag in ("--help", "-h", "--hydra-help", "--info", "-i", "--cfg", "-c") for flag in flags):
        return args  # nothing runs: Hydra prints what was asked
    multirun = any(flag in ("-m", "--multirun") for flag in flags)
    world = distributed.world_from_env()
    if multirun and world.size > 1:
        raise UserError("torchrun runs one training over several processes; drop -m (a sweep launcher spreads jobs over GPUs)")
    EXISTED_BEFORE[:] = [preflight.check_output_dir(parsed, multirun)]
    resuming = any(o.key_or_group == "resume" and o.value() is not None for o in parsed)
    if multirun or resuming:
        preflight.check_keys(parsed)
    else:
        # A single run's bad value fails here, before Hydra makes a run directory for it; a sweep's
        # bad combination fails in its own job and the sweep goes on.
        preflight.check_literal_values(parsed)
        composed = preflight.compose_checked(overrides, parsed)
        validate_config(composed)
        given = next((o for o in parsed if o.key_or_group == "hydra.run.dir"), None)
        if given is not None:
            check_unlocked(Path(str(given.value())))  # a second train into a run dir being written
        preflight.check_fresh_run_dir(parsed)
        from gan_lab.training.resources import check_resources

        check_resources(composed, Path.cwd())  # memory and disk, before Hydra makes the run directory
    return [*resume.hydra_arguments(flags, overrides, parsed), *distributed.hydra_overrides_for_workers(world)]


def main(args: list[str]) -> int:
    """Hand every argument after `train` to Hydra (overrides, -m, --cfg job, --help, ...)."""
    try:
        args = hydra_arguments(args)
    except UserError as error:
        report_and_exit(error)
    sys.argv = ["gan-lab train", *args]
    _hydra_main()
    return 0
