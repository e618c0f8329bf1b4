"""Checks of the composed config before anything heavy starts: one clear line per bad value."""

from __future__ import annotations

from omegaconf import DictConfig, OmegaConf

from gan_lab.choices import (
    DATASET_NAMES,
    IMAGE_SIZES,
    LOSS_NAMES,
    MODEL_NAMES,
    OPTIMIZER_NAMES,
    PRECISIONS,
    SHAPES_BACKGROUNDS,
    UPSAMPLE_MODES,
)
from gan_lab.errors import UserError, did_you_mean


def _one_of(key: str, value, allowed) -> None:
    if value not in allowed:
        raise UserError(f"{key}={value} is not allowed{did_you_mean(value, allowed)}; choose one of {', '.join(map(str, allowed))}")


def _at_least(key: str, value, low) -> None:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or value < low:
        raise UserError(f"{key}={value} must be a number >= {low}")


def _positive(key: str, value) -> None:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or value <= 0:
        raise UserError(f"{key}={value} must be a number > 0")


def validate_config(cfg: DictConfig) -> None:
    """Raise UserError naming the first bad key, its value and what is allowed."""
    missing = OmegaConf.missing_keys(cfg)
    if missing:
        key = sorted(missing)[0]
        raise UserError(f"{key} is required for dataset={cfg.dataset.name}: add {key}=<value> to the command")
    ds, m, t, o = cfg.dataset, cfg.model, cfg.trainer, cfg.optim
    _one_of("dataset.name", ds.name, DATASET_NAMES)
    _one_of("dataset.image_size", ds.image_size, IMAGE_SIZES)
    _one_of("dataset.channels", ds.channels, (1, 3))
    if ds.name == "shapes":
        _one_of("dataset.background", ds.background, SHAPES_BACKGROUNDS)
        _at_least("dataset.num_images", ds.num_images, 1)
        _at_least("dataset.max_shapes", ds.max_shapes, 1)
    _one_of("model.name", m.name, MODEL_NAMES)
    _at_least("model.latent_dim", m.latent_dim, 1)
    _at_least("model.filters", m.filters, 1)
    _one_of("model.kernel_size", m.kernel_size, tuple(range(2, 8)))
    _one_of("model.upsample", m.upsample, UPSAMPLE_MODES)
    for key in ("steps", "batch_size", "log_every", "sample_every", "num_samples"):
        _at_least(f"trainer.{key}", t[key], 1)
    _at_least("trainer.checkpoint_every", t.checkpoint_every, 0)
    _at_least("trainer.preload_max_mb", t.preload_max_mb, 0)
    _at_least("trainer.num_workers", t.num_workers, 0)
    _one_of("trainer.precision", t.precision, PRECISIONS)
    _one_of("loss.name", cfg.loss.name, LOSS_NAMES)
    _one_of("optim.name", o.name, OPTIMIZER_NAMES)
    _positive("optim.lr_G", o.lr_G)
    _positive("optim.lr_D", o.lr_D)
    if len(o.betas) != 2 or not all(0 <= b < 1 for b in o.betas):
        raise UserError(f"optim.betas={list(o.betas)} must be two numbers in [0, 1)")
