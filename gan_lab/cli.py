"""`gan-lab <command> [args]`: picks the command and hands the rest of the arguments to it."""

from __future__ import annotations

import importlib
import sys

from gan_lab import __version__
from gan_lab.errors import UserError, did_you_mean, report_and_exit

# command -> (module with main(args) -> int, one-line help)
COMMANDS = {
    "train": ("gan_lab.commands.train", "train a GAN; Hydra overrides follow (dataset=..., model.kernel_size=5, -m for sweeps)"),
    "board": ("gan_lab.commands.board", "start TensorBoard on outputs/ or a given run or sweep directory"),
    "doctor": ("gan_lab.commands.doctor", "diagnose a run or sweep: one verdict per classic GAN failure, and doctor.png"),
    "compare": ("gan_lab.commands.compare", "rank a sweep's runs (or any runs) by a metric; compare.png shows them side by side"),
    "generate": ("gan_lab.commands.generate", "sample a run's checkpoint into samples.npz and a grid PNG (n=10000 seed=0)"),
    "evaluate": ("gan_lab.commands.evaluate", "FID, KID, Inception Score, checkerboard and diversity of a run into metrics.json"),
    "interpolate": ("gan_lab.commands.interpolate", "latent walks (slerp/lerp) as a grid PNG and a GIF; --arithmetic A B C"),
    "probe": ("gan_lab.commands.probe", "D as a feature extractor: linear-probe accuracy on MNIST/CIFAR-10 vs a random D"),
    "completion": ("gan_lab.commands.completion", "print a tab-completion script: gan-lab completion bash|zsh|fish"),
}

USAGE = """usage: gan-lab <command> [args]

A config-driven lab bench for GAN experiments.

commands:
{commands}

Run `gan-lab <command> --help` for a command's options, e.g. `gan-lab train --help`.
Examples:
  gan-lab train                                    DCGAN on the built-in shapes dataset
  gan-lab train dataset=cifar10_frog               one CIFAR-10 class
  gan-lab train -m model.kernel_size=3,4,5 model.filters=32,64,128
  gan-lab board                                    browse every run in TensorBoard
"""


def usage() -> str:
    width = max(map(len, COMMANDS))
    lines = [f"  {name.ljust(width)}  {help_}" for name, (_, help_) in COMMANDS.items()]
    return USAGE.format(commands="\n".join(lines))


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(usage())
        return 0 if argv else 2
    if argv[0] in ("-V", "--version"):
        print(f"gan-lab {__version__}")
        return 0
    command, args = argv[0], argv[1:]
    if command in ("-sc", "--shell-completion") or command.startswith("--shell-completion="):
        command, args = "completion", argv  # Hydra's completion flag: `gan-lab completion` says what replaces it
    if command not in COMMANDS:
        report_and_exit(
            UserError(f"unknown command '{command}'{did_you_mean(command, COMMANDS)}; commands: {', '.join(COMMANDS)}")
        )
    module = importlib.import_module(COMMANDS[command][0])
    return module.main(args) or 0
