"""The typed schema of every config key: its type and allowed range or choices, in one table.

`rules_for(cfg)` gives the rules that apply to a composed config (keys shared by every option of a group,
plus those of the chosen dataset, model, loss and optimiser); config/validate.py checks each value
against its rule before anything is written, then the rules that relate several keys. The same Rule
objects parse the `key=value` options of the other commands (config/options.py), so `fps=nan` and
`trainer.steps=nan` are refused by the same code. Kept free of torch so a bad value costs a second.
"""

from __future__ import annotations

from dataclasses import replace

from gan_lab.config.choices import (
    ACTIVATIONS,
    AUGMENT_NAMES,
    AUGMENT_POLICIES,
    BEST_BY,
    DATASET_NAMES,
    DOWNSAMPLE_MODES,
    G_NORMS,
    INITS,
    LATENT_DISTS,
    LOSS_NAMES,
    MODEL_NAMES,
    NAN_POLICIES,
    NORMS,
    OPTIMIZER_NAMES,
    OUTPUTS,
    PRECISIONS,
    REG_NAMES,
    SHAPES_BACKGROUNDS,
    UPSAMPLE_MODES,
)
from gan_lab.config.rules import (  # noqa: F401  (duration_seconds, shown: re-exported for validate.py)
    Bool,
    Choice,
    ChoiceList,
    Classes,
    Duration,
    Features,
    Float,
    Int,
    IntList,
    NumberPair,
    Rule,
    Text,
    duration_seconds,
    shown,
)

GROUPS_FIRST = ("trainer",)  # checked first: tricks.instance_noise_steps follows trainer.steps, so a bad steps is named as such

# --- the table ---------------------------------------------------------------------------------------
PROBABILITY = Float(0, 1)
DROPOUT = Float(0, 1, high_open=True)
NON_NEGATIVE = Float(0)
POSITIVE = Float(0, low_open=True)
LABEL_RANGE = NumberPair(0, 1, ordered=True, nullable=True, message="must be null or a range [low, high], e.g. [0.9, 1.0]")
BETAS = NumberPair(0, 1, high_open=True, message="must be two numbers in [0, 1), e.g. [0.5, 0.999]")
EMA = Float(0, 1, low_open=True, high_open=True, nullable=True, example=", e.g. 0.999")
DEVICE = Text(message="is not a device; use auto, cpu, cuda or cuda:N", pattern=r"auto|cpu|cuda(:\d+)?|mps|xpu(:\d+)?")

# Keys every composed `gan-lab train` config has, whatever the group options.
COMMON: dict[str, Rule] = {
    "paths.data_dir": Text(message="must be a folder path"),
    "resume": Text(nullable=True, message="must be a path to a run directory or a checkpoint file"),
    # trainer (first: tricks.instance_noise_steps follows trainer.steps)
    "trainer.steps": Int(1),
    "trainer.time_limit": Duration(nullable=True),
    "trainer.batch_size": Int(1),
    "trainer.seed": Int(0),
    "trainer.device": DEVICE,
    "trainer.log_every": Int(1),
    "trainer.sample_every": Int(1),
    "trainer.checkpoint_every": Int(0),
    "trainer.keep_checkpoints": Int(0),
    "trainer.on_nan": Choice(values=NAN_POLICIES),
    "trainer.deterministic": Bool(),
    "trainer.num_samples": Int(1),
    "trainer.preload_max_mb": NON_NEGATIVE,
    "trainer.num_workers": Int(0),
    "trainer.precision": Choice(values=PRECISIONS),
    "trainer.channels_last": Bool(),
    "trainer.eval_every": Int(0),
    "trainer.compile": Bool(),
    # dataset, model, loss, optim: the keys every option has
    "dataset.name": Choice(values=DATASET_NAMES),
    "dataset.image_size": Int(8),
    "dataset.channels": Choice(values=(1, 3)),
    "dataset.holdout": Int(0),
    "model.name": Choice(values=MODEL_NAMES),
    "model.latent_dim": Int(1),
    "model.latent_dist": Choice(values=LATENT_DISTS),
    "model.ema_decay": EMA,
    "loss.name": Choice(values=LOSS_NAMES),
    "optim.name": Choice(values=OPTIMIZER_NAMES),
    "optim.lr_G": POSITIVE,
    "optim.lr_D": POSITIVE,
    "optim.d_steps": Int(1),
    "optim.clip_value": Float(0, low_open=True, nullable=True),
    "optim.clip_norm": Float(0, low_open=True, nullable=True),
    # tricks
    "tricks.real_label": NON_NEGATIVE,
    "tricks.fake_label": NON_NEGATIVE,
    "tricks.flip": Bool(),
    "tricks.soft_real": LABEL_RANGE,
    "tricks.soft_fake": LABEL_RANGE,
    "tricks.smooth": Float(0, 1, nullable=True),
    "tricks.noisy_p": PROBABILITY,
    "tricks.additive": NON_NEGATIVE,
    "tricks.instance_noise": NON_NEGATIVE,
    "tricks.instance_noise_steps": Int(0),
    # augment (every option has every key) and reg
    "augment.name": Choice(values=AUGMENT_NAMES),
    "augment.p": PROBABILITY,
    "augment.policy": ChoiceList(values=AUGMENT_POLICIES),
    "augment.target": Float(0, 1, low_open=True, high_open=True, example=" (ADA: 0.6)"),
    "augment.ada_images": POSITIVE,
    "reg.name": Choice(values=REG_NAMES),
    "reg.gamma": NON_NEGATIVE,
    "reg.every": Int(1),
    # doctor (a null threshold turns its check off)
    "doctor.patience": Int(1),
    "doctor.sample_patience": Int(1),
    "doctor.sample_warmup": Int(0),
    "doctor.sample_trend": Int(0),
    "doctor.stop_on_collapse": Bool(),
    "doctor.d_wins.loss": Float(0, low_open=True, nullable=True),
    "doctor.d_wins.margin": Float(0, 0.5),
    "doctor.g_starves.ratio": Float(0, low_open=True, nullable=True),
    "doctor.g_starves.min_norm": Float(0, low_open=True, nullable=True),
    "doctor.exploding.grad_norm": Float(0, low_open=True, nullable=True),
    "doctor.mode_collapse.fraction": Float(0, 1, nullable=True),
    "doctor.checkerboard.score": Float(0, low_open=True, nullable=True),
    "doctor.oscillation.window": Int(2),
    "doctor.oscillation.growth": Float(0, low_open=True, nullable=True),
    "doctor.oscillation.min_swing": NON_NEGATIVE,
    "doctor.oscillation.min_relative": NON_NEGATIVE,
    "doctor.d_overfits.gap": Float(0, low_open=True, nullable=True),
    "doctor.d_overfits.r_t": Float(0, low_open=True, nullable=True),
    # metrics (also `gan-lab evaluate metrics.<key>=...`)
    "metrics.features": Features(),
    "metrics.inception_weights": Text(nullable=True, message="must be null or a weights file path"),
    "metrics.num_samples": Int(2),
    "metrics.num_real": Int(2),
    "metrics.kid_subset_size": Int(2),
    "metrics.diversity_samples": Int(2),
    "metrics.classifier": Bool(),
    "metrics.classifier_epochs": Int(1),
    "metrics.classifier_train": Int(10),
    "metrics.batch_size": Int(1),
    "metrics.best": Choice(values=BEST_BY),
    "metrics.sweep_samples": Int(0),
}

_TORCHVISION_DATASET = {"dataset.classes": Classes(nullable=True), "dataset.train": Bool(), "dataset.download": Bool()}
_CONV_MODEL = {
    "model.filters": Int(1),
    "model.kernel_size": Choice(values=tuple(range(2, 8))),
    "model.upsample": Choice(values=UPSAMPLE_MODES),
    "model.norm_G": Choice(values=G_NORMS),
    "model.norm_D": Choice(values=NORMS),
    "model.g_activation": Choice(values=ACTIVATIONS),
    "model.init": Choice(values=INITS),
    "model.d_slope": NON_NEGATIVE,
}

# Keys of one option of a group, by the option's `name` (dataset=cifar10_frog composes name cifar10).
BY_OPTION: dict[str, dict[str, dict[str, Rule]]] = {
    "dataset": {
        "shapes": {
            "dataset.num_images": Int(1),
            "dataset.seed": Int(0),
            "dataset.max_shapes": Int(1),
            "dataset.background": Choice(values=SHAPES_BACKGROUNDS),
            "dataset.rotate": Bool(),
        },
        "image_folder": {"dataset.path": Text(message="must be the path of a folder of images")},
        "mnist": _TORCHVISION_DATASET,
        "cifar10": _TORCHVISION_DATASET,
    },
    "model": {
        "dcgan": {
            **_CONV_MODEL,
            "model.downsample": Choice(values=DOWNSAMPLE_MODES),
            "model.batchnorm": Bool(),
            "model.norm_affine": Bool(),
            "model.g_output": Choice(values=OUTPUTS),
            "model.d_dropout": DROPOUT,
            "model.start_size": Int(1),  # below dataset.image_size, a power of 2: validate.py
            "model.g_dense": IntList(),
            "model.d_dense": IntList(),
            "model.g_final_conv": Bool(),
        },
        "resnet": {**_CONV_MODEL, "model.residual_scale": POSITIVE},
        "dlwp": {"model.filters_G": Int(1), "model.filters_D": Int(1), "model.slope": NON_NEGATIVE, "model.d_dropout": DROPOUT},
        "mlp": {
            "model.hidden_G": IntList(),
            "model.hidden_D": IntList(),
            "model.g_activation": Choice(values=ACTIVATIONS),
            "model.d_activation": Choice(values=ACTIVATIONS),
            "model.d_slope": NON_NEGATIVE,
            "model.g_output": Choice(values=OUTPUTS),
            "model.d_output": Choice(values=("none", "sigmoid")),
            "model.d_dropout": DROPOUT,
            "model.norm_G": Choice(values=("batch", "layer", "none")),
            "model.norm_D": Choice(values=("batch", "layer", "spectral", "none")),
            "model.init": Choice(values=INITS),
        },
    },
    "loss": {"wgan_gp": {"loss.gp_weight": NON_NEGATIVE, "loss.critic_steps": Int(1)}},
    "optim": {
        "adam": {"optim.betas": BETAS, "optim.betas_G": replace(BETAS, nullable=True), "optim.betas_D": replace(BETAS, nullable=True)},
        "rmsprop": {"optim.alpha": DROPOUT, "optim.eps": POSITIVE, "optim.momentum": NON_NEGATIVE},
        "sgd": {"optim.momentum": NON_NEGATIVE},
    },
}  # fmt: skip


def rules_for(names: dict[str, str]) -> dict[str, Rule]:
    """Every key's rule for these group options ({"dataset": "shapes", "model": "dcgan", ...})."""
    rules = dict(COMMON)
    for group, by_name in BY_OPTION.items():
        rules.update(by_name.get(names.get(group, ""), {}))
    return rules


def rule_of_any_option(key: str) -> Rule | None:
    """The key's rule whatever the group options, or None when options differ (or no option has the key).

    A value refused by it is wrong for every composition, so it can be refused before composing.
    """
    if key in COMMON:
        return COMMON[key]
    found = {rules[key] for by_name in BY_OPTION.values() for rules in by_name.values() if key in rules}
    return found.pop() if len(found) == 1 else None


def all_keys() -> list[str]:
    """Every key any composition can have (for completion and docs)."""
    keys = set(COMMON)
    for by_name in BY_OPTION.values():
        for rules in by_name.values():
            keys |= set(rules)
    return sorted(keys)
