"""Where the configs live, and small helpers to read them."""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


def config_dir() -> Path:
    """The `conf/` folder: shipped inside the wheel as gan_lab/conf, or the repo's top-level conf/."""
    packaged = _PACKAGE_DIR / "conf"
    if packaged.is_dir():
        return packaged
    return _PACKAGE_DIR.parent / "conf"


def group_options(group: str) -> list[str]:
    """The options of a config group, e.g. group_options('dataset') -> ['cifar10', ..., 'shapes']."""
    folder = config_dir() / group
    return sorted(p.stem for p in folder.glob("*.yaml")) if folder.is_dir() else []


def config_groups() -> list[str]:
    """The config groups a user can pick options from (hydra's own groups excluded)."""
    return sorted(p.name for p in config_dir().iterdir() if p.is_dir() and p.name != "hydra")


def check_group_choices(overrides: list[str]) -> None:
    """Catch a misspelled `group=option` before Hydra composes anything (one line, did-you-mean)."""
    from gan_lab.errors import UserError, did_you_mean

    groups = config_groups()
    for arg in overrides:
        if arg.startswith("-") or "=" not in arg:
            continue
        key, value = arg.split("=", 1)
        key = key.lstrip("+~")
        if key not in groups or "(" in value or "$" in value:
            continue
        options = group_options(key)
        for option in filter(None, (v.strip() for v in value.split(","))):
            if option not in options:
                raise UserError(
                    f"{key}={option} is not a {key} option{did_you_mean(option, options)}; "
                    f"available: {', '.join(options)}"
                )
