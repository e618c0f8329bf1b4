"""`gan-lab train resume=<run dir | checkpoint>`: continue a run in its own directory with its own config.

Before Hydra starts, the run's original overrides (`.hydra/overrides.yaml`) are replayed with the
new ones on top and `hydra.run.dir` pointed at the run, so Hydra composes the same config again.
After composition, `check_resumable` refuses changes that would make it a different run.
"""

from __future__ import annotations

import re
from pathlib import Path

from omegaconf import OmegaConf

from gan_lab.errors import UserError
from gan_lab.runs.lock import check_unlocked
from gan_lab.runs.layout import checkpoints, is_run_dir, run_dir_of_checkpoint, saved_overrides

# Keys a resumed run may change: how long and how it runs, not what it trains.
RESUMABLE_CHANGES = (
    "resume", "paths.data_dir", "dataset.path", "trainer.steps", "trainer.time_limit", "trainer.log_every", "trainer.sample_every",
    "trainer.checkpoint_every", "trainer.keep_checkpoints", "trainer.device", "trainer.num_workers",
    "trainer.on_nan", "trainer.preload_max_mb", "trainer.compile", "doctor",
    "trainer.eval_every", "metrics",
)  # fmt: skip
_PLAIN = re.compile(r"[\w./\-~:]+")


def locate(value: str) -> tuple[Path, Path]:
    """(run directory, checkpoint file) for `resume=<run dir | checkpoint file>`."""
    path = Path(value).expanduser()
    example = "a run directory such as outputs/train/<date>/<time>, or one of its checkpoints/step_NNNNNN.pt"
    if not path.exists():
        raise UserError(f"resume={value} does not exist; give {example}")
    if path.is_file():
        run_dir = run_dir_of_checkpoint(path)
        if run_dir is None:
            raise UserError(f"resume={value} is not inside a run's checkpoints/ folder; give {example}")
        return run_dir.resolve(), path.resolve()
    if not is_run_dir(path):
        raise UserError(f"resume={value} is not a gan-lab run directory (no .hydra/config.yaml inside); give {example}")
    found = checkpoints(path)
    if not found:
        raise UserError(f"resume={value}: the run has no checkpoints/step_*.pt yet; start it again without resume=")
    return path.resolve(), found[-1].resolve()


def quote(value: str) -> str:
    """A path as a Hydra override value (quoted when it holds spaces, commas, '=' and the like)."""
    if _PLAIN.fullmatch(value):
        return value
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def hydra_arguments(flags: list[str], overrides: list[str], parsed) -> list[str]:
    """The argument list for Hydra: unchanged without resume=, else the run's overrides + the new ones."""
    resume = next((o for o in parsed if o.key_or_group == "resume" and o.value() is not None), None)
    if resume is None:
        return [*flags, *overrides]
    if any(flag in ("-m", "--multirun") for flag in flags):
        raise UserError("resume= continues one run; drop -m/--multirun (resume each sweep job by its directory)")
    if any(o.key_or_group == "hydra.run.dir" for o in parsed):
        raise UserError("resume= continues in the run's own directory; drop hydra.run.dir=")
    from gan_lab.config.preflight import compose_config, parse_overrides
    from gan_lab.config.validate import validate_config
    from gan_lab.runs.checkpoint import load_checkpoint

    run_dir, checkpoint = locate(str(resume.value()))
    check_unlocked(run_dir)  # a second writer is refused before Hydra writes into the run
    saved = saved_overrides(run_dir)
    new = {o.key_or_group: line for o, line in zip(parsed, overrides) if o.key_or_group != "resume"}
    kept = [line for o, line in zip(parse_overrides(saved), saved) if o.key_or_group not in new and o.key_or_group != "resume"]
    task = [*kept, *new.values(), f"resume={quote(str(checkpoint))}"]
    # Everything is checked before Hydra rewrites the run's .hydra/ folder.
    cfg = compose_config(task)
    validate_config(cfg)
    check_resumable(load_checkpoint(checkpoint), cfg, checkpoint)
    return [*flags, *task, f"hydra.run.dir={quote(str(run_dir))}"]


def check_resumable(payload: dict, cfg, checkpoint: Path) -> None:
    """Refuse a resume that would train a different run, or one that has nothing left to do."""
    current = OmegaConf.to_container(cfg, resolve=True)
    derived = _interpolated_keys(cfg)  # e.g. tricks.instance_noise_steps follows trainer.steps
    changed = [
        (key, old, new)
        for key, old, new in _differences(payload["config"], current)
        if key not in derived and not any(key == allowed or key.startswith(allowed + ".") for allowed in RESUMABLE_CHANGES)
    ]
    if changed:
        listed = ", ".join(f"{key}={new} (the run has {old})" for key, old, new in changed[:4])
        raise UserError(
            f"resume={checkpoint} would change what the run trains: {listed}; a resumed run may only change "
            f"trainer.steps, log_every, sample_every, checkpoint_every, keep_checkpoints, device, on_nan "
            f"(start a new run to change the rest)"
        )
    step = int(payload["step"])
    if step >= cfg.trainer.steps:
        raise UserError(
            f"resume={checkpoint}: the run already finished its {step} steps; add trainer.steps=<more than {step}> "
            f"to train it further"
        )


def _interpolated_keys(cfg, prefix: str = "") -> set[str]:
    """Dotted keys whose value is an interpolation such as ${trainer.steps}."""
    found = set()
    for key in cfg:
        name = f"{prefix}.{key}" if prefix else str(key)
        if OmegaConf.is_interpolation(cfg, key):
            found.add(name)
        elif OmegaConf.is_dict(cfg[key]):
            found |= _interpolated_keys(cfg[key], name)
    return found


def _differences(old, new, prefix: str = "") -> list[tuple[str, object, object]]:
    if isinstance(old, dict) and isinstance(new, dict):
        found = []
        for key in sorted(set(old) | set(new), key=str):
            name = f"{prefix}.{key}" if prefix else str(key)
            found += _differences(old.get(key, "<absent>"), new.get(key, "<absent>"), name)
        return found
    return [] if old == new else [(prefix, old, new)]
