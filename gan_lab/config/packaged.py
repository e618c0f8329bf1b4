"""Where the packaged configs live, and the groups and options they offer."""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parents[1]  # gan_lab/


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
