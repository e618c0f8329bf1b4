"""Checks of `gan-lab train`'s command line before Hydra starts (and before it writes anything).

Hydra reports a bad override as several lines with a hint to set HYDRA_FULL_ERROR; these checks turn
each mistake into one line with a did-you-mean: override syntax, group options, unknown keys, an
output directory that cannot be written, a fresh run aimed at another run's directory, and `resume=`.
"""

from __future__ import annotations

import re
from pathlib import Path

from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import Override, OverrideType
from hydra.errors import OverrideParseException

from gan_lab.config.packaged import config_dir, config_groups, group_options
from gan_lab.config.creatable import creatable_problem
from gan_lab.errors import UserError, did_you_mean
from gan_lab.runs.layout import checkpoints

# Hydra's flags that take a value in the next argument.
_FLAGS_WITH_VALUE = {"--cfg", "-c", "--package", "-p", "--config-path", "-cp", "--config-name", "-cn",
                     "--config-dir", "-cd", "--experimental-rerun"}  # fmt: skip


def split_arguments(args: list[str]) -> tuple[list[str], list[str]]:
    """(Hydra flags with their values, overrides)."""
    flags, overrides = [], []
    expecting_value = False
    for arg in args:
        if expecting_value:
            flags.append(arg)
            expecting_value = False
        elif arg.startswith("-"):
            flags.append(arg)
            expecting_value = arg in _FLAGS_WITH_VALUE
        else:
            overrides.append(arg)
    return flags, overrides


def parse_overrides(overrides: list[str]) -> list[Override]:
    """Hydra's own parser; a syntax error becomes one line naming the override."""
    parser = OverridesParser.create()
    parsed = []
    for line in overrides:
        try:
            parsed.extend(parser.parse_overrides([line]))
        except OverrideParseException as error:
            reason = str(error).splitlines()[0]
            raise UserError(
                f"cannot parse the override '{line}': {reason}; write key=value, e.g. model.kernel_size=5, "
                f"quote lists as 'dataset.classes=[frog,cat]'"
            ) from None
    return parsed


def check_group_choices(parsed: list[Override]) -> None:
    """A misspelled `group=option` gets one line with a did-you-mean and the options."""
    groups = config_groups()
    for override in parsed:
        key = override.key_or_group
        if key not in groups or override.is_delete():
            continue
        options = group_options(key)
        for option in _choices(override):
            if option not in options:
                raise UserError(
                    f"{key}={option} is not a {key} option{did_you_mean(option, options)}; "
                    f"available: {', '.join(options)}"
                )


def _choices(override: Override) -> list[str]:
    """The value(s) of an override as strings: one, or every value of a sweep."""
    if override.is_sweep_override():
        return [str(v) for v in override.sweep_string_iterator()]
    value = override.value()
    return [] if value is None else [str(value)]


def check_keys(parsed: list[Override]) -> None:
    """Every `key=value` (not `+key`) must name a key of the composed config; suggest the closest."""
    keys = [o for o in parsed if o.type == OverrideType.CHANGE and o.key_or_group not in config_groups()]
    keys = [o for o in keys if not o.key_or_group.startswith(("hydra.", "hydra/")) and o.key_or_group != "hydra"]
    if not keys:
        return
    from omegaconf import OmegaConf

    configs = _compose_variants([o for o in parsed if o.key_or_group in config_groups()])
    known = sorted({k for cfg in configs for k in _flat_keys(OmegaConf.to_container(cfg, resolve=False))})
    for override in keys:
        key = override.key_or_group
        if key in known or any(k.startswith(key + ".") for k in known):
            continue
        parent = key.rsplit(".", 1)[0] if "." in key else ""
        siblings = [k for k in known if parent and k.startswith(parent + ".")]
        hint = did_you_mean(key, known)
        listed = f"; keys of {parent}: {', '.join(k[len(parent) + 1:] for k in siblings)}" if siblings and not hint else ""
        raise UserError(f"{key} is not a config key{hint}{listed} (use +{key}=... to add a new key)")


def _compose_variants(group_overrides: list[Override]):
    """The composed config for each option of each swept group (other groups at their first option)."""
    fixed = {o.key_or_group: _choices(o) for o in group_overrides if _choices(o)}
    variants = [{g: options[0] for g, options in fixed.items()}]
    for group, options in fixed.items():
        variants += [{**variants[0], group: option} for option in options[1:]]
    return [compose_config([f"{g}={o}" for g, o in variant.items()]) for variant in variants]


def compose_config(overrides: list[str]):
    """The task config Hydra will compose for these overrides (hydra.* ones left out)."""
    from hydra import compose, initialize_config_dir
    from hydra.errors import HydraException

    task = [line for line in overrides if not line.lstrip("+~").startswith("hydra.")]
    try:
        with initialize_config_dir(config_dir=str(config_dir()), version_base="1.3"):
            return compose(config_name="train", overrides=task)
    except HydraException as error:
        raise UserError(" ".join(str(error).split())) from None


def check_literal_values(parsed: list[Override]) -> None:
    """Plain `key=value` overrides against their schema rule, before composing, where the rule is the same
    for every group option (config/schema.py rule_of_any_option).

    The value given on the command line is the value the run gets, so a bad one is refused in
    milliseconds; interpolations, sweeps and keys whose rule depends on the option wait for the composed config.
    """
    from gan_lab.config.schema import GROUPS_FIRST, all_keys, rule_of_any_option

    plain = [o for o in parsed if o.type == OverrideType.CHANGE and not o.is_sweep_override()]
    added = [o.key_or_group for o in parsed if o.type == OverrideType.ADD]
    known = [*all_keys(), *added]
    for o in sorted(plain, key=lambda o: o.key_or_group.split(".")[0] not in GROUPS_FIRST):
        rule, value = rule_of_any_option(o.key_or_group), o.value()
        if isinstance(value, str) and "${" in value:
            _check_interpolation(o.key_or_group, value, known)
        elif rule is not None:
            rule.check(o.key_or_group, value)


_KEY_REFERENCE = re.compile(r"\$\{([A-Za-z_][\w.]*)\}")  # ${model.filters}; not ${now:...}, ${.sibling}


def _check_interpolation(key: str, value: str, known: list[str]) -> None:
    """A `${other.key}` in a value must name a key (or a node) that exists."""
    for name in _KEY_REFERENCE.findall(value):
        if name.split(".")[0] == "hydra" or any(k == name or k.startswith(name + ".") for k in known):
            continue
        raise UserError(f"{key}={value} cannot be resolved: Interpolation key '{name}' not found; use a value or ${{<existing key>}}")


def compose_checked(overrides: list[str], parsed: list[Override]):
    """compose_config, with check_keys' did-you-mean when a key does not exist: one compose when all is well."""
    try:
        return compose_config(overrides)
    except UserError:
        check_keys(parsed)
        raise


def _flat_keys(node, prefix: str = "") -> list[str]:
    if not isinstance(node, dict):
        return [prefix] if prefix else []
    keys = []
    for name, child in node.items():
        keys += _flat_keys(child, f"{prefix}.{name}" if prefix else str(name))
    return keys


def check_output_dir(parsed: list[Override], multirun: bool) -> Path:
    """The run (or sweep) directory must be creatable before Hydra writes its config there.

    Returns the nearest folder of its path that exists now: what a refused run's clean-up stops at.
    """
    key = "hydra.sweep.dir" if multirun else "hydra.run.dir"
    given = next((o for o in parsed if o.key_or_group == key), None)
    text = str(given.value()) if given is not None else "outputs"
    literal = Path(text.split("${", 1)[0] or ".")
    target = literal if literal.is_absolute() else Path.cwd() / literal
    problem = creatable_problem(target)
    if problem:
        name = key if given is not None else "the outputs folder"
        raise UserError(f"{name} {text} {problem}")
    while not target.exists():
        target = target.parent
    return target


def check_fresh_run_dir(parsed: list[Override]) -> None:
    """A new run must not start in a directory that holds another run's checkpoints."""
    given = next((o for o in parsed if o.key_or_group == "hydra.run.dir"), None)
    if given is None:
        return
    run_dir = Path(str(given.value()))
    if checkpoints(run_dir):
        raise UserError(
            f"hydra.run.dir={run_dir} already holds a run with checkpoints; continue it with resume={run_dir} "
            f"or choose another directory"
        )
