"""The `metrics` settings (conf/metrics/default.yaml): command-line options of `gan-lab evaluate` and the
config group read during training, with the same checks for both."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from gan_lab.config.choices import BEST_BY
from gan_lab.config.options import Option, boolean, choice, optional_text, path
from gan_lab.config.packaged import config_dir
from gan_lab.config.schema import COMMON
from gan_lab.errors import UserError


def defaults() -> DictConfig:
    return OmegaConf.load(config_dir() / "metrics" / "default.yaml")


def _schema(key: str):
    """The schema's rule for metrics.<key> as an option parser: one source of truth for training and evaluate."""
    return COMMON[f"metrics.{key}"].parse


def _weights(text: str):
    value = optional_text(text)
    return None if value is None else path(value)


def _features(text: str) -> str:
    if text != "inception" and "." not in text:
        raise ValueError(
            "must be inception or the python path of an nn.Module, e.g. gan_lab.metrics.features.RandomConvFeatures"
        )
    return text


_PARSERS = {
    "features": (_features, "inception, or package.module.Class of an nn.Module (uint8 N x 3 x H x W -> N x D)"),
    "inception_weights": (_weights, "a local Inception-v3 weights file, for machines without internet"),
    "num_samples": (_schema("num_samples"), "generated images"),
    "num_real": (_schema("num_real"), "real images (a seeded random subset)"),
    "kid_subset_size": (_schema("kid_subset_size"), "KID subset size (lowered to the number of images when there are fewer)"),
    "diversity_samples": (_schema("diversity_samples"), "images compared pairwise for the diversity ratio"),
    "classifier": (boolean, "mnist / cifar10: class histogram of samples under a small CNN trained on the labels"),
    "classifier_epochs": (_schema("classifier_epochs"), "training epochs of that CNN"),
    "classifier_train": (_schema("classifier_train"), "training images of that CNN"),
    "batch_size": (_schema("batch_size"), "images per forward pass"),
    "best": (choice(*BEST_BY), "during training: the metric that picks checkpoints/best.pt"),
    "sweep_samples": (_schema("sweep_samples"), "sweep jobs: generated images of the quality evaluation at the end (0: off)"),
}


TRAINING_ONLY = ("best", "sweep_samples")


def metric_options() -> list[Option]:
    """evaluate's `metrics.<key>=value` options, with the defaults of conf/metrics/default.yaml."""
    base = defaults()
    return [
        Option(f"metrics.{key}", parse, base[key], help_)
        for key, (parse, help_) in _PARSERS.items()
        if key not in TRAINING_ONLY
    ]


def check(m: DictConfig) -> None:
    """Every metrics.* value passes the same check as on evaluate's command line (one-line error)."""
    for key, (parse, _) in _PARSERS.items():
        value = m.get(key)
        text = "null" if value is None else str(value).lower() if isinstance(value, bool) else str(value)
        try:
            parse(text)
        except ValueError as error:
            raise UserError(f"metrics.{key}={value} {error}") from None
    unknown = sorted(set(m) - set(_PARSERS))
    if unknown:
        raise UserError(f"metrics.{unknown[0]} is not a metrics key; keys: {', '.join(_PARSERS)}")


def resolve(run_cfg: DictConfig | None, given: dict[str, Any]) -> DictConfig:
    """Defaults, then the run's own `metrics` config (if it trained with one), then the given values."""
    merged = defaults()
    if run_cfg is not None and "metrics" in run_cfg:
        merged = OmegaConf.merge(merged, run_cfg.metrics)
    for key, value in given.items():
        merged[key.removeprefix("metrics.")] = str(value) if isinstance(value, Path) else value
    return merged
