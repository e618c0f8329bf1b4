"""Checks of the composed config before anything heavy starts: one clear line per bad value.

Each key's own type and range come from the schema (config/schema.py); this module walks the composed
config against it, then checks what relates several keys (label tricks and the loss, image size and model).
"""

from __future__ import annotations

from omegaconf import DictConfig, ListConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from gan_lab.config.choices import IMAGE_SIZES, LABEL_LOSSES
from gan_lab.config.schema import GROUPS_FIRST, duration_seconds, rules_for, shown  # noqa: F401  (duration_seconds: trainer)
from gan_lab.errors import UserError



def validate_config(cfg: DictConfig) -> None:
    """Raise UserError naming the first bad key, its value and what is allowed."""
    values = resolved_values(cfg)
    missing = OmegaConf.missing_keys(cfg)
    if missing:
        key = sorted(missing)[0]
        raise UserError(f"{key} is required for dataset={cfg.dataset.name}: add {key}=<value> to the command")
    check_values(values, {g: values.get(f"{g}.name") for g in ("dataset", "model", "loss", "optim")}, _interpolated(cfg))
    _check_model_and_image_size(cfg.model, cfg.dataset.image_size)
    _check_deterministic(cfg.trainer, cfg.model)
    _check_tricks(cfg.loss, cfg.tricks)


def resolved_values(cfg: DictConfig) -> dict[str, object]:
    """{dotted key: value} of every leaf (lists kept whole), each interpolation resolved or refused in one line."""
    raw = OmegaConf.to_container(cfg, resolve=False)
    values = {}
    for key, text in _leaves(raw):
        try:
            value = OmegaConf.select(cfg, key, throw_on_resolution_failure=True)
        except OmegaConfBaseException as error:
            reason = str(error).splitlines()[0]
            raise UserError(f"{key}={shown(text)} cannot be resolved: {reason}; use a value or ${{<existing key>}}") from None
        values[key] = OmegaConf.to_container(value, resolve=True) if isinstance(value, ListConfig) else value
    return values


def _leaves(node, prefix: str = ""):
    if isinstance(node, dict):
        for name, child in node.items():
            yield from _leaves(child, f"{prefix}.{name}" if prefix else str(name))
    else:
        yield prefix, node


def _interpolated(cfg: DictConfig) -> set[str]:
    """Keys whose value follows another key (optim.d_steps: ${loss.critic_steps})."""
    raw = OmegaConf.to_container(cfg, resolve=False)
    return {key for key, text in _leaves(raw) if isinstance(text, str) and "${" in text}


def check_values(values: dict[str, object], names: dict[str, str], followers: set[str] = frozenset()) -> None:
    """Each value against its schema rule; keys without a rule (added with +key=) pass.

    The trainer goes first and keys that follow another key go last, so a bad value is named where it was given.
    """
    rules = rules_for(names)
    ordered = sorted(rules, key=lambda k: (k in followers, k.split(".")[0] not in GROUPS_FIRST))
    for key in ordered:
        if key in values:
            rules[key].check(key, values[key])


def _check_model_and_image_size(m: DictConfig, image_size: int) -> None:
    """Each architecture's image sizes, and a start size below the image size."""
    allowed = {"dcgan": IMAGE_SIZES, "resnet": IMAGE_SIZES, "dlwp": (32, 64, 128)}.get(m.name)
    if m.name == "mlp" and image_size > 256:
        raise UserError(f"dataset.image_size={image_size} is too large for model=mlp; use at most 256")
    if allowed and image_size not in allowed:
        raise UserError(f"dataset.image_size={image_size} is not allowed for model={m.name}; choose one of "
                        f"{', '.join(map(str, allowed))}")  # fmt: skip
    if m.name == "dcgan":
        starts = tuple(s for s in (1, 2, 4, 8, 16, 32, 64) if s < image_size)
        if m.start_size not in starts:
            raise UserError(f"model.start_size={m.start_size} is not allowed; choose one of {', '.join(map(str, starts))}")


def _check_tricks(loss: DictConfig, t: DictConfig) -> None:
    if t.real_label == t.fake_label:
        raise UserError(f"tricks.real_label and tricks.fake_label are both {t.real_label}; they must differ")
    if t.smooth is not None and t.soft_real is not None:
        raise UserError("tricks.smooth and tricks.soft_real both set the real target; keep one (set the other to null)")
    label_tricks = [
        key for key, off in (("flip", False), ("soft_real", None), ("soft_fake", None), ("smooth", None),
                             ("noisy_p", 0.0), ("additive", 0.0)) if t[key] != off
    ]  # fmt: skip
    if label_tricks and loss.name not in LABEL_LOSSES:
        raise UserError(
            f"tricks.{label_tricks[0]} changes D's labels, but loss={loss.name} has none; "
            f"use loss={' or '.join(LABEL_LOSSES)}, or tricks=none / instance_noise"
        )


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
