"""Short names for sweep jobs: the swept overrides only, keys shortened, seed left out.

`gan-lab train -m model.kernel_size=3,5 model.filters=16,32 trainer.steps=30` names its jobs
`0_kernel_size=3,filters=16`, `1_kernel_size=3,filters=32`, ...: TensorBoard shows each job as a
run with that name. Registered as the resolver `${gan_lab_job_name:}` used by `hydra.sweep.subdir`.
"""

from __future__ import annotations

from pathlib import Path

from omegaconf import OmegaConf

from gan_lab.runs.layout import sweep_config

MAX_NAME = 160  # characters: a folder name stays well under the 255 of common file systems
RESOLVER = "gan_lab_job_name"


def split_override(override: str) -> tuple[str, str]:
    """'+model.filters=64' -> ('model.filters', '64')."""
    key, _, value = override.partition("=")
    return key.lstrip("+~"), value


def short_keys(keys: list[str]) -> dict[str, str]:
    """Each key's last component (model.kernel_size -> kernel_size), the full key where two would clash."""
    last = [key.rsplit(".", 1)[-1] for key in keys]
    return {key: short if last.count(short) == 1 else key for key, short in zip(keys, last)}


def is_seed(key: str) -> bool:
    return key.rsplit(".", 1)[-1] == "seed"


def constant_keys(sweep_overrides: list[str]) -> set[str]:
    """Keys the sweep's command line sets to one value (everything else in a job's overrides was swept)."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    parsed = OverridesParser.create().parse_overrides(list(sweep_overrides))
    return {o.key_or_group.lstrip("+~") for o in parsed if not o.is_sweep_override()}


def swept_params(job_overrides: list[str], sweep_overrides: list[str] | None, exclude: set[str] = frozenset()) -> dict:
    """The job's swept overrides as {full key: value string}, in command-line order.

    sweep_overrides: the sweep's own command line (multirun.yaml); None counts every override as swept.
    """
    constant = constant_keys(sweep_overrides) if sweep_overrides is not None else set()
    params = {}
    for override in job_overrides:
        key, value = split_override(override)
        if key not in constant and key not in exclude and not key.startswith("hydra."):
            params[key] = value
    return params


def job_name(params: dict) -> str:
    """'kernel_size=5,filters=64' from swept params; the seed only when nothing else was swept."""
    named = {k: v for k, v in params.items() if not is_seed(k)} or dict(params)
    shorts = short_keys(list(named))
    name = ",".join(f"{shorts[key]}={value}".replace("/", "_") for key, value in named.items())
    return name[:MAX_NAME] or "defaults"


def sweep_overrides(sweep_dir: Path) -> list[str] | None:
    """The sweep's command-line overrides from its multirun.yaml, or None when there is none."""
    config = sweep_config(sweep_dir)
    if config is None:
        return None
    overrides = OmegaConf.select(config, "hydra.overrides.task")
    return list(overrides) if overrides is not None else None


def job_params_from_config(root) -> dict:
    """Swept params of the job whose (Hydra) config is `root`."""
    hydra = root.hydra
    exclude = set(OmegaConf.select(hydra, "job.config.override_dirname.exclude_keys", default=[]) or [])
    return swept_params(list(hydra.overrides.task), sweep_overrides(Path(str(hydra.sweep.dir))), exclude)


def _resolve_job_name(*, _root_) -> str:
    return job_name(job_params_from_config(_root_))


if not OmegaConf.has_resolver(RESOLVER):
    OmegaConf.register_new_resolver(RESOLVER, _resolve_job_name)
