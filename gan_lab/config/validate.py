"""Checks of the composed config before anything heavy starts: one clear line per bad value."""

from __future__ import annotations

import math
import re

from omegaconf import DictConfig, ListConfig, OmegaConf

from gan_lab.config.choices import (
    ACTIVATIONS,
    DATASET_NAMES,
    DOWNSAMPLE_MODES,
    G_NORMS,
    IMAGE_SIZES,
    INITS,
    LABEL_LOSSES,
    LATENT_DISTS,
    LOSS_NAMES,
    MODEL_NAMES,
    NAN_POLICIES,
    NORMS,
    OPTIMIZER_NAMES,
    OUTPUTS,
    PRECISIONS,
    SHAPES_BACKGROUNDS,
    UPSAMPLE_MODES,
)
from gan_lab.errors import UserError, did_you_mean
from gan_lab.metrics.settings import check as check_metrics



def _is_number(value) -> bool:
    """A finite int or float (not a bool): nan and inf pass no numeric check."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def one_of(key: str, value, allowed) -> None:
    # 4.0 == 4 and True == 1 in Python: the value must also be of the allowed value's type
    if not any(value == a and type(value) is type(a) for a in allowed):
        raise UserError(
            f"{key}={value} is not allowed{did_you_mean(value, allowed)}; choose one of {', '.join(map(str, allowed))}"
        )


def at_least(key: str, value, low, integer: bool = False) -> None:
    kind = "an integer" if integer else "a number"
    if not _is_number(value) or value < low or (integer and not isinstance(value, int)):
        raise UserError(f"{key}={value} must be {kind} >= {low}")


def positive(key: str, value) -> None:
    if not _is_number(value) or value <= 0:
        raise UserError(f"{key}={value} must be a number > 0")


def in_unit_interval(key: str, value, closed_high: bool = True) -> None:
    if not _is_number(value) or value < 0 or (value > 1 if closed_high else value >= 1):
        raise UserError(f"{key}={value} must be a number in [0, 1{']' if closed_high else ')'}")


def optional_positive(key: str, value) -> None:
    if value is not None:
        positive(key, value)


def int_list(key: str, value) -> None:
    if not isinstance(value, (list, ListConfig)) or not all(isinstance(v, int) and v > 0 for v in value):
        raise UserError(f"{key}={value} must be a list of positive integers, e.g. [1024] or []")


def number_range(key: str, value) -> None:
    """null, or [low, high] with 0 <= low <= high <= 1."""
    if value is None:
        return
    if not isinstance(value, (list, ListConfig)) or len(value) != 2 or not all(_is_number(v) for v in value):
        raise UserError(f"{key}={value} must be null or a range [low, high], e.g. [0.9, 1.0]")
    if not 0 <= value[0] <= value[1] <= 1:
        raise UserError(f"{key}={list(value)} must satisfy 0 <= low <= high <= 1")


_DURATION = re.compile(r"(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m)?(?:(\d+(?:\.\d+)?)s?)?")


def duration_seconds(key: str, value) -> float | None:
    """null, a number of seconds, or text such as 90s, 30m, 2h, 1h30m -> seconds (> 0)."""
    if value is None:
        return None
    if _is_number(value) and math.isfinite(value) and value > 0:
        return float(value)
    match = _DURATION.fullmatch(str(value).strip().lower()) if isinstance(value, str) else None
    if match and any(match.groups()):
        hours, minutes, seconds = (float(g or 0) for g in match.groups())
        if hours * 3600 + minutes * 60 + seconds > 0:
            return hours * 3600 + minutes * 60 + seconds
    raise UserError(f"{key}={value} is not a duration; use seconds (e.g. 90) or text such as 30m, 2h, 1h30m, or null")


def validate_config(cfg: DictConfig) -> None:
    """Raise UserError naming the first bad key, its value and what is allowed."""
    missing = OmegaConf.missing_keys(cfg)
    if missing:
        key = sorted(missing)[0]
        raise UserError(f"{key} is required for dataset={cfg.dataset.name}: add {key}=<value> to the command")
    _validate_trainer(cfg.trainer)  # first: tricks.instance_noise_steps follows trainer.steps
    _validate_dataset(cfg.dataset)
    _validate_model(cfg.model, cfg.dataset.image_size)
    _check_deterministic(cfg.trainer, cfg.model)
    _validate_loss_and_tricks(cfg.loss, cfg.tricks)
    _validate_optim(cfg.optim)
    if cfg.resume is not None and not isinstance(cfg.resume, str):
        raise UserError(f"resume={cfg.resume} must be a path to a run directory or a checkpoint file")
    _validate_doctor(cfg.doctor)
    at_least("trainer.eval_every", cfg.trainer.get("eval_every", 0), 0, integer=True)
    if "metrics" in cfg:
        check_metrics(cfg.metrics)
    _validate_small_data(cfg)


def _validate_dataset(ds: DictConfig) -> None:
    one_of("dataset.name", ds.name, DATASET_NAMES)
    at_least("dataset.image_size", ds.image_size, 8, integer=True)
    one_of("dataset.channels", ds.channels, (1, 3))
    if ds.name == "shapes":
        one_of("dataset.background", ds.background, SHAPES_BACKGROUNDS)
        at_least("dataset.num_images", ds.num_images, 1, integer=True)
        at_least("dataset.max_shapes", ds.max_shapes, 1, integer=True)


def _validate_model(m: DictConfig, image_size: int) -> None:
    one_of("model.name", m.name, MODEL_NAMES)
    at_least("model.latent_dim", m.latent_dim, 1, integer=True)
    one_of("model.latent_dist", m.latent_dist, LATENT_DISTS)
    if m.ema_decay is not None and not (_is_number(m.ema_decay) and 0 < m.ema_decay < 1):
        raise UserError(f"model.ema_decay={m.ema_decay} must be null (off) or a number in (0, 1), e.g. 0.999")
    if m.name == "mlp":
        if image_size > 256:
            raise UserError(f"dataset.image_size={image_size} is too large for model=mlp; use at most 256")
        int_list("model.hidden_G", m.hidden_G)
        int_list("model.hidden_D", m.hidden_D)
        one_of("model.g_activation", m.g_activation, ACTIVATIONS)
        one_of("model.d_activation", m.d_activation, ACTIVATIONS)
        one_of("model.g_output", m.g_output, OUTPUTS)
        one_of("model.d_output", m.d_output, ("none", "sigmoid"))
        one_of("model.norm_G", m.norm_G, ("batch", "layer", "none"))
        one_of("model.norm_D", m.norm_D, ("batch", "layer", "spectral", "none"))
        in_unit_interval("model.d_dropout", m.d_dropout, closed_high=False)
        one_of("model.init", m.init, INITS)
        return
    if m.name == "dlwp":
        one_of("dataset.image_size", image_size, (32, 64, 128))
        at_least("model.filters_G", m.filters_G, 1, integer=True)
        at_least("model.filters_D", m.filters_D, 1, integer=True)
        in_unit_interval("model.d_dropout", m.d_dropout, closed_high=False)
        return
    one_of("dataset.image_size", image_size, IMAGE_SIZES)
    at_least("model.filters", m.filters, 1, integer=True)
    one_of("model.kernel_size", m.kernel_size, tuple(range(2, 8)))
    one_of("model.upsample", m.upsample, UPSAMPLE_MODES)
    one_of("model.norm_G", m.norm_G, G_NORMS)
    one_of("model.norm_D", m.norm_D, NORMS)
    one_of("model.g_activation", m.g_activation, ACTIVATIONS)
    one_of("model.init", m.init, INITS)
    at_least("model.d_slope", m.d_slope, 0)
    if m.name == "resnet":
        positive("model.residual_scale", m.residual_scale)
        return
    one_of("model.downsample", m.downsample, DOWNSAMPLE_MODES)
    one_of("model.g_output", m.g_output, OUTPUTS)
    in_unit_interval("model.d_dropout", m.d_dropout, closed_high=False)
    starts = tuple(s for s in (1, 2, 4, 8, 16, 32, 64) if s < image_size)
    one_of("model.start_size", m.start_size, starts)
    int_list("model.g_dense", m.g_dense)
    int_list("model.d_dense", m.d_dense)


def _validate_loss_and_tricks(loss: DictConfig, t: DictConfig) -> None:
    one_of("loss.name", loss.name, LOSS_NAMES)
    if loss.name == "wgan_gp":
        at_least("loss.gp_weight", loss.gp_weight, 0)
        at_least("loss.critic_steps", loss.critic_steps, 1, integer=True)
    for key in ("real_label", "fake_label", "additive", "instance_noise"):
        at_least(f"tricks.{key}", t[key], 0)
    if t.real_label == t.fake_label:
        raise UserError(f"tricks.real_label and tricks.fake_label are both {t.real_label}; they must differ")
    number_range("tricks.soft_real", t.soft_real)
    number_range("tricks.soft_fake", t.soft_fake)
    if t.smooth is not None:
        in_unit_interval("tricks.smooth", t.smooth)
        if t.soft_real is not None:
            raise UserError("tricks.smooth and tricks.soft_real both set the real target; keep one (set the other to null)")
    in_unit_interval("tricks.noisy_p", t.noisy_p)
    at_least("tricks.instance_noise_steps", t.instance_noise_steps, 0, integer=True)
    label_tricks = [
        key for key, off in (("flip", False), ("soft_real", None), ("soft_fake", None), ("smooth", None),
                             ("noisy_p", 0.0), ("additive", 0.0)) if t[key] != off
    ]  # fmt: skip
    if label_tricks and loss.name not in LABEL_LOSSES:
        raise UserError(
            f"tricks.{label_tricks[0]} changes D's labels, but loss={loss.name} has none; "
            f"use loss={' or '.join(LABEL_LOSSES)}, or tricks=none / instance_noise"
        )


def _validate_optim(o: DictConfig) -> None:
    one_of("optim.name", o.name, OPTIMIZER_NAMES)
    positive("optim.lr_G", o.lr_G)
    positive("optim.lr_D", o.lr_D)
    for key in ("betas", "betas_G", "betas_D"):
        betas = o.get(key)
        if betas is None and key != "betas":
            continue
        if o.name == "adam" and (
            not isinstance(betas, (list, ListConfig)) or len(betas) != 2 or not all(_is_number(b) and 0 <= b < 1 for b in betas)
        ):
            raise UserError(f"optim.{key}={betas} must be two numbers in [0, 1), e.g. [0.5, 0.999]")
    if o.name == "rmsprop":
        in_unit_interval("optim.alpha", o.alpha, closed_high=False)
        positive("optim.eps", o.eps)
    if "momentum" in o:
        at_least("optim.momentum", o.momentum, 0)
    at_least("optim.d_steps", o.d_steps, 1, integer=True)
    optional_positive("optim.clip_value", o.clip_value)
    optional_positive("optim.clip_norm", o.clip_norm)


def boolean(key: str, value) -> None:
    if not isinstance(value, bool):
        raise UserError(f"{key}={value} must be true or false")


def _validate_trainer(t: DictConfig) -> None:
    for key in ("steps", "batch_size", "log_every", "sample_every", "num_samples"):
        at_least(f"trainer.{key}", t[key], 1, integer=True)
    at_least("trainer.seed", t.seed, 0, integer=True)
    if t.seed >= 2**63:  # torch.manual_seed takes a signed 64-bit integer
        raise UserError(f"trainer.seed={t.seed} must be an integer below 2**63 ({2**63 - 1})")
    at_least("trainer.checkpoint_every", t.checkpoint_every, 0, integer=True)
    at_least("trainer.keep_checkpoints", t.keep_checkpoints, 0, integer=True)
    duration_seconds("trainer.time_limit", t.get("time_limit"))
    one_of("trainer.on_nan", t.on_nan, NAN_POLICIES)
    at_least("trainer.preload_max_mb", t.preload_max_mb, 0)
    at_least("trainer.num_workers", t.num_workers, 0, integer=True)
    one_of("trainer.precision", t.precision, PRECISIONS)
    for key in ("deterministic", "channels_last", "compile"):
        boolean(f"trainer.{key}", t[key])
    if not isinstance(t.device, str):
        raise UserError(f"trainer.device={t.device} is not a device; use auto, cpu, cuda or cuda:N")


def _check_deterministic(t: DictConfig, m: DictConfig) -> None:
    """CUDA has no deterministic backward for bilinear upsampling: refuse it before the first step does.

    trainer.device=auto is refused too: this runs before torch is imported, so it cannot tell whether a GPU exists.
    """
    if t.deterministic is True and m.get("upsample") == "bilinear" and not str(t.device).startswith("cpu"):
        raise UserError(
            f"trainer.deterministic=true with model.upsample=bilinear fails on CUDA (trainer.device={t.device}): "
            "bilinear upsampling has no deterministic backward there; use model.upsample=nearest, transpose or "
            "pixel_shuffle, trainer.deterministic=false, or trainer.device=cpu"
        )


def _optional(check, key: str, value, *args) -> None:
    """null turns a doctor check off; anything else must pass the check."""
    if value is not None:
        check(key, value, *args)


def _validate_doctor(d: DictConfig) -> None:
    at_least("doctor.patience", d.patience, 1, integer=True)
    at_least("doctor.sample_patience", d.sample_patience, 1, integer=True)
    at_least("doctor.sample_warmup", d.sample_warmup, 0, integer=True)
    if not isinstance(d.stop_on_collapse, bool):
        raise UserError(f"doctor.stop_on_collapse={d.stop_on_collapse} must be true or false")
    _optional(positive, "doctor.d_wins.loss", d.d_wins.loss)
    if not _is_number(d.d_wins.margin) or not 0 <= d.d_wins.margin <= 0.5:
        raise UserError(f"doctor.d_wins.margin={d.d_wins.margin} must be a number in [0, 0.5]")
    _optional(positive, "doctor.g_starves.ratio", d.g_starves.ratio)
    _optional(positive, "doctor.g_starves.min_norm", d.g_starves.min_norm)
    _optional(positive, "doctor.exploding.grad_norm", d.exploding.grad_norm)
    _optional(in_unit_interval, "doctor.mode_collapse.fraction", d.mode_collapse.fraction)
    _optional(positive, "doctor.checkerboard.score", d.checkerboard.score)
    at_least("doctor.oscillation.window", d.oscillation.window, 2, integer=True)
    _optional(positive, "doctor.oscillation.growth", d.oscillation.growth)
    at_least("doctor.oscillation.min_swing", d.oscillation.min_swing, 0)
    at_least("doctor.oscillation.min_relative", d.oscillation.min_relative, 0)


def _validate_small_data(cfg: DictConfig) -> None:
    """augment=, reg=, dataset.holdout and doctor.d_overfits (the small-data recipe)."""
    from gan_lab.config.choices import AUGMENT_NAMES, AUGMENT_POLICIES, REG_NAMES

    a = cfg.get("augment")
    if a is not None:
        one_of("augment.name", a.name, AUGMENT_NAMES)
        in_unit_interval("augment.p", a.p)
        if not isinstance(a.policy, ListConfig) or not a.policy:
            raise UserError(f"augment.policy={a.policy} must be a non-empty list of {', '.join(AUGMENT_POLICIES)}")
        for op in a.policy:
            one_of("augment.policy", op, AUGMENT_POLICIES)
        if not _is_number(a.target) or not 0 < a.target < 1:
            raise UserError(f"augment.target={a.target} must be a number between 0 and 1 (ADA: 0.6)")
        positive("augment.ada_images", a.ada_images)
    r = cfg.get("reg")
    if r is not None:
        one_of("reg.name", r.name, REG_NAMES)
        at_least("reg.gamma", r.gamma, 0)
        at_least("reg.every", r.every, 1, integer=True)
    at_least("dataset.holdout", cfg.dataset.get("holdout") or 0, 0, integer=True)
    o = cfg.doctor.get("d_overfits")
    if o is not None:
        _optional(positive, "doctor.d_overfits.gap", o.gap)
        _optional(positive, "doctor.d_overfits.r_t", o.r_t)
