"""The candidates for the word under the cursor of a `gan-lab ...` line, as shell completion offers them.

Light on purpose (it runs on every TAB): the packaged YAML files through config.completion_keys, the
choices table, the run-directory layout; no torch, no omegaconf, no Hydra.
"""

from __future__ import annotations

import os
from pathlib import Path

from gan_lab.config import completion_keys
from gan_lab.config.choices import DEVICES, KEY_CHOICES
from gan_lab.runs.layout import best_checkpoint, checkpoints, is_run_dir, is_sweep_dir, job_dirs

OUTPUTS = "outputs"  # where runs land by default (conf/train.yaml: hydra.run.dir, hydra.sweep.dir)

# Hydra's flags on `gan-lab train` (--shell-completion is refused: `gan-lab completion <shell>` replaces it)
HYDRA_FLAGS = ("--multirun", "-m", "--cfg", "-c", "--resolve", "--package", "-p", "--info", "-i", "--help", "-h",
               "--hydra-help", "--version", "--config-path", "-cp", "--config-name", "-cn", "--config-dir", "-cd",
               "--experimental-rerun")  # fmt: skip
FLAG_VALUES = {
    "--cfg": ("job", "hydra", "all"), "-c": ("job", "hydra", "all"),
    "--info": ("all", "config", "defaults", "defaults-tree", "plugins", "searchpath"),
    "-i": ("all", "config", "defaults", "defaults-tree", "plugins", "searchpath"),
}  # fmt: skip
HYDRA_KEYS = {"hydra.run.dir": None, "hydra.sweep.dir": None}  # Hydra's keys a user sets often

# key -> what its value names: a folder ("dir"), a file ("file") or either ("path")
PATH_KEYS = {"dataset.path": "dir", "resume": "path", "paths.data_dir": "dir", "hydra.run.dir": "dir",
             "hydra.sweep.dir": "dir", "metrics.inception_weights": "file",
             "out": "path", "data_dir": "dir"}  # fmt: skip

# The key=value options of the commands that read a run (each command module declares them; a test keeps
# these in step), and the argparse flags of the others. evaluate also takes metrics.<key> (conf/metrics).
RUN_OPTIONS = {
    "generate": ("n", "out", "seed", "checkpoint", "batch_size", "device"),
    "evaluate": ("n", "seed", "checkpoint", "device", "data_dir"),
    "interpolate": ("walks", "steps", "mode", "seed", "fps", "jitter", "out", "checkpoint", "device"),
    "probe": ("dataset", "subset", "test_subset", "epochs", "seed", "checkpoint", "device", "data_dir"),
}
METRICS_NOT_ON_EVALUATE = ("metrics.best", "metrics.sweep_samples")  # training-only settings (metrics/settings.TRAINING_ONLY)
OPTION_CHOICES = {"mode": ("slerp", "lerp"), "device": DEVICES, "dataset": ("mnist", "cifar10"),
                  "metrics.classifier": (True, False), "metrics.features": ("inception",)}  # fmt: skip
COMMAND_FLAGS = {
    "board": ("--port", "--host", "--help"),
    "doctor": ("--no-plot", "--help"),
    "compare": ("--by", "--order", "--out", "--help"),
    "interpolate": ("--arithmetic", "--help"),
}
SHELLS = ("bash", "zsh", "fish")


def _shown(value) -> str:
    return "null" if value is None else str(value).lower() if isinstance(value, bool) else str(value)


def paths(prefix: str, kind: str = "path") -> list[str]:
    """Files and folders starting with prefix (folders end in /); kind 'dir' keeps folders only."""
    head, slash, start = prefix.rpartition("/")
    folder = f"{head}{slash}"  # '' (here), '/', 'a/', '~/data/'
    try:
        entries = list(os.scandir(os.path.expanduser(folder or ".")))
    except OSError:
        return []
    out = []
    for entry in entries:
        if not entry.name.startswith(start) or (entry.name.startswith(".") and not start.startswith(".")):
            continue
        if entry.is_dir():
            out.append(f"{folder}{entry.name}/")
        elif kind != "dir":
            out.append(f"{folder}{entry.name}")
    return sorted(out)


def run_dirs(prefix: str, other: str = "dir") -> list[str]:
    """Run and sweep directories under outputs/ (a sweep's jobs once the prefix is inside it); when none
    starts with prefix, paths of the `other` kind."""
    found = []
    root = Path(OUTPUTS)
    if root.is_dir():
        for path in sorted(root.glob("*/*/*")):
            if path.is_dir() and (is_run_dir(path) or is_sweep_dir(path)):
                found.append(f"{path}/")
                if prefix.startswith(f"{path}/") and not is_run_dir(path):
                    found += [f"{job}/" for job in job_dirs(path)]
    matches = [p for p in found if p.startswith(prefix)]
    return matches or paths(prefix, other)


def _values(key: str, head: str, tail: str, choices) -> list[str]:
    return [f"{key}={head}{v}" for v in map(_shown, choices) if v.startswith(tail)]


def _value_candidates(key: str, text: str, tree: dict, known: dict, run_dir: Path | None = None) -> list[str]:
    """`key=<value>` candidates; a sweep's comma list completes its last item."""
    head, _, tail = text.rpartition(",")
    head = f"{head}," if head else ""
    if key in completion_keys.config_groups(tree):
        return _values(key, head, tail, completion_keys.group_options(tree, key))
    if key == "resume":  # a run directory, or a checkpoint file anywhere
        return [f"{key}={head}{p}" for p in run_dirs(tail, "path")]
    if key in PATH_KEYS:
        return [f"{key}={head}{p}" for p in paths(tail, PATH_KEYS[key])]
    if key == "checkpoint" and run_dir is not None:
        names = [p.name for p in checkpoints(run_dir)] + [p.name for p in [best_checkpoint(run_dir)] if p.is_file()]
        return _values(key, head, tail, names)
    for table in (KEY_CHOICES, OPTION_CHOICES):
        if key in table:
            return _values(key, head, tail, table[key])
    if isinstance(known.get(key), bool):
        return _values(key, head, tail, (True, False))
    return []


def _key_candidates(prefix: str, names: list[str], groups: list[str]) -> list[str]:
    """`group=` and `key=` names one level at a time: `model.` for the keys under model, `model=` for the group."""
    out = set()
    for group in groups:
        if group.startswith(prefix):
            out.add(f"{group}=")
    for key in names:
        if key.startswith(prefix):
            rest = key[len(prefix) :]
            dot = rest.find(".")
            out.add(f"{prefix}{rest[: dot + 1]}" if dot >= 0 else f"{key}=")
    return sorted(out)


def train(words: list[str], word: str) -> list[str]:
    """`gan-lab train ...`: Hydra flags, groups and their options, keys, their choices and paths."""
    previous = words[-1] if words else ""
    if previous in FLAG_VALUES:
        return [v for v in FLAG_VALUES[previous] if v.startswith(word)]
    if word.startswith("-"):
        return [f for f in HYDRA_FLAGS if f.startswith(word)]
    tree = completion_keys.config_tree()
    groups = completion_keys.config_groups(tree)
    chosen = {}
    for other in words:
        key, sep, value = other.lstrip("+~").partition("=")
        if sep and key in groups and value:
            chosen[key] = [v for v in value.split(",") if v]
    known = {**completion_keys.train_keys(tree, chosen), **HYDRA_KEYS}
    sign = word[: len(word) - len(word.lstrip("+~"))]
    body = word[len(sign) :]
    if "=" in body:
        key, _, text = body.partition("=")
        return [sign + c for c in _value_candidates(key, text, tree, known)]
    return [sign + c for c in _key_candidates(body, sorted(known), groups)]


def after_run(command: str, words: list[str], word: str) -> list[str]:
    """The commands that read runs: run and sweep directories, then their key= options and flags."""
    tree = completion_keys.config_tree()
    options = list(RUN_OPTIONS.get(command, ()))
    if command == "evaluate":
        metrics = completion_keys.train_keys(tree, {})
        options += [k for k in metrics if k.startswith("metrics.") and k not in METRICS_NOT_ON_EVALUATE]
    previous = words[-1] if words else ""
    if previous == "--out":
        return paths(word)
    if previous == "--order":
        return [o for o in ("asc", "desc") if o.startswith(word)]
    if previous in ("--by", "--port", "--host"):
        return []
    if word.startswith("-"):
        return [f for f in COMMAND_FLAGS.get(command, ("--help",)) if f.startswith(word)]
    given = [w for w in words if "=" not in w and not w.startswith("-")]
    run_dir = Path(given[0]) if given else None
    if "=" in word and options:
        key, _, text = word.partition("=")
        return _value_candidates(key, text, tree, {}, run_dir) if key in options else []
    if command in RUN_OPTIONS and run_dir is not None:
        return [f"{o}=" for o in options if f"{o}=".startswith(word)]
    return run_dirs(word)


def candidates(words: list[str], word: str, commands: list[str]) -> list[str]:
    """words: the line's words before the cursor's word (words[0] is gan-lab itself); word: the one being typed."""
    if len(words) <= 1:
        flags = [f for f in ("--help", "--version") if word.startswith("-") and f.startswith(word)]
        return [c for c in commands if c.startswith(word)] + flags
    command, rest = words[1], words[2:]
    if command == "train":
        return train(rest, word)
    if command == "completion":
        return [s for s in SHELLS if s.startswith(word)] if not rest else []
    if command in commands:
        return after_run(command, rest, word)
    return []
