"""The keys and group options of `gan-lab train`, read from the packaged YAML files for shell completion.

Completion runs on every TAB, so this reads conf/ with PyYAML (no Hydra compose, no omegaconf, no torch)
and keeps what it read in a JSON cache under ~/.cache/gan-lab/, rebuilt whenever a YAML file under
conf/ is added, removed or changed (its name, size and mtime are the cache key).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from gan_lab.config.packaged import config_dir

ROOT_CONFIG = "train"  # conf/train.yaml
HYDRA_GROUPS = ("hydra/launcher",)  # Hydra's own groups a user picks from (conf/hydra/launcher/)
CACHE_VERSION = 1


def cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "gan-lab"


def _stamp(conf: Path) -> list:
    """(file, size, mtime) of every YAML file under conf/: a change to any of them rebuilds the cache."""
    found = []
    for folder, dirs, files in os.walk(conf):
        dirs.sort()
        for name in sorted(files):
            if name.endswith(".yaml"):
                stat = os.stat(os.path.join(folder, name))
                found.append([os.path.relpath(os.path.join(folder, name), conf), stat.st_size, stat.st_mtime_ns])
    return found


def _flat(node, prefix: str = "") -> dict:
    """{'d_wins.loss': 0.1, ...}: every leaf of a YAML mapping by its dotted key."""
    if not isinstance(node, dict) or not node:
        return {prefix: node} if prefix else {}
    out = {}
    for name, child in node.items():
        out.update(_flat(child, f"{prefix}.{name}" if prefix else str(name)))
    return out


def _read(path: Path) -> dict:
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with open(path, encoding="utf-8") as f:
        data = yaml.load(f, Loader=loader)  # noqa: S506 (a safe loader)
    return data if isinstance(data, dict) else {}


def _defaults(data: dict) -> tuple[dict, list]:
    """A defaults list as ({group: option} of `group: option` / `override /group: option`, [bare names])."""
    groups, names = {}, []
    for entry in data.get("defaults") or []:
        if isinstance(entry, str):
            names.append(entry)
        elif isinstance(entry, dict):
            for key, value in entry.items():
                group = str(key).removeprefix("override ").strip().lstrip("/")
                groups[group] = value
    return groups, names


def _scan(conf: Path) -> dict:
    """{'defaults': {group: option}, 'root': {key: default}, 'groups': {group: {option: {...}}}} from conf/."""
    root = _read(conf / f"{ROOT_CONFIG}.yaml")
    defaults, _ = _defaults(root)
    groups = {}
    for folder in sorted(p for p in conf.iterdir() if p.is_dir() and p.name != "hydra"):
        groups[folder.name] = {f.stem: _option(_read(f)) for f in sorted(folder.glob("*.yaml"))}
    for group in HYDRA_GROUPS:
        groups[group] = {f.stem: _option({}) for f in sorted((conf / group).glob("*.yaml"))}  # picked, not keys
    keys = _flat({k: v for k, v in root.items() if k not in ("defaults", "hydra")})
    return {"defaults": defaults, "root": keys, "groups": groups}


def _option(data: dict) -> dict:
    overrides, same_group = _defaults(data)
    keys = _flat({k: v for k, v in data.items() if k != "defaults"})
    return {"keys": keys, "same_group": [n for n in same_group if n != "_self_"], "overrides": overrides}


def config_tree(conf: Path | None = None, cache: Path | None = None) -> dict:
    """What conf/ offers (see _scan), from the cache when no YAML file changed since it was written."""
    conf = Path(conf or config_dir())
    stamp = _stamp(conf)
    file = (cache or cache_dir()) / f"completion-{hashlib.sha1(str(conf.resolve()).encode()).hexdigest()[:12]}.json"
    try:
        cached = json.loads(file.read_text())
        if cached.get("version") == CACHE_VERSION and cached.get("stamp") == stamp:
            return cached["tree"]
    except (OSError, ValueError):
        pass
    tree = _scan(conf)
    try:  # a cache that cannot be written (read-only home) only costs speed
        file.parent.mkdir(parents=True, exist_ok=True)
        partial = file.with_suffix(f".{os.getpid()}.tmp")
        partial.write_text(json.dumps({"version": CACHE_VERSION, "stamp": stamp, "tree": tree}))
        os.replace(partial, file)
    except OSError:
        pass
    return tree


def group_options(tree: dict, group: str) -> list[str]:
    return sorted(tree["groups"].get(group, {}))


def config_groups(tree: dict) -> list[str]:
    return sorted(tree["groups"])


def _option_keys(tree: dict, group: str, option: str, seen: tuple = ()) -> dict:
    """The keys an option sets, with those of the same-group options its defaults list pulls in."""
    entry = tree["groups"].get(group, {}).get(option)
    if entry is None or option in seen:
        return {}
    keys = {}
    for other in entry["same_group"]:
        keys.update(_option_keys(tree, group, other, (*seen, option)))
    keys.update(entry["keys"])
    return keys


def train_keys(tree: dict, chosen: dict[str, list[str]]) -> dict:
    """{dotted key: default} of the config composed with the chosen group options (others at their default).

    chosen maps a group to the option(s) on the command line (several for a sweep: the union of their keys);
    experiment presets switch groups too, as their defaults lists say.
    """
    picked = {g: [o] for g, o in tree["defaults"].items() if o is not None}
    for preset in chosen.get("experiment", []):
        overrides = tree["groups"].get("experiment", {}).get(preset, {}).get("overrides", {})
        picked.update({g: [o] for g, o in overrides.items() if g in tree["groups"]})
    picked.update({g: options for g, options in chosen.items() if g in tree["groups"]})
    keys = dict(tree["root"])
    for group, options in picked.items():
        for option in options:
            found = _option_keys(tree, group, option)
            if group == "experiment":  # `# @package _global_`: its keys are dotted from the root already
                keys.update(found)
            elif "/" not in group:
                keys.update({f"{group}.{k}": v for k, v in found.items()})
    return keys
