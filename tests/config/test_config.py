"""Every config option composes and validates; bad group options get a one-line did-you-mean."""

from __future__ import annotations

import pytest
from conftest import run_cli
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from gan_lab.config.packaged import config_dir, config_groups, group_options
from gan_lab.config.validate import validate_config
from gan_lab.errors import UserError

EXTRA = {"image_folder": ["dataset.path=/some/folder"]}


def compose_train(overrides: list[str]):
    with initialize_config_dir(config_dir=str(config_dir()), version_base="1.3"):
        return compose(config_name="train", overrides=overrides)


def all_choices() -> list[tuple[str, str]]:
    return [(group, option) for group in config_groups() for option in group_options(group)]


def test_groups_exist():
    assert {"dataset", "model", "loss", "optim", "trainer"} <= set(config_groups())
    assert {"shapes", "mnist", "cifar10", "cifar10_frog", "image_folder"} <= set(group_options("dataset"))


@pytest.mark.parametrize("group,option", all_choices())
def test_every_option_composes_and_validates(group, option):
    cfg = compose_train([f"{group}={option}", *EXTRA.get(option, [])])
    validate_config(cfg)
    assert OmegaConf.missing_keys(cfg) == set()


def test_defaults_are_the_dcgan_recipe():
    cfg = compose_train([])
    assert cfg.dataset.name == "shapes" and cfg.model.name == "dcgan"
    assert cfg.optim.lr_G == cfg.optim.lr_D == 2e-4 and list(cfg.optim.betas) == [0.5, 0.999]
    assert cfg.model.latent_dim == 100 and cfg.model.kernel_size == 4
    # the first run is a demo sized for a 2-core fp32 CPU: 32 base filters, batch 64, 2400 steps, EMA of G
    assert cfg.model.filters == 32 and cfg.model.ema_decay == 0.999
    assert cfg.trainer.batch_size == 64 and cfg.trainer.steps == 2400 and cfg.trainer.time_limit is None


def test_paper_presets_keep_their_width_and_no_ema():
    for preset in ("dcgan_mnist", "dcgan_frog"):
        cfg = compose_train([f"experiment={preset}"])
        assert cfg.model.filters == 64 and cfg.model.ema_decay is None and cfg.trainer.batch_size == 128


def test_cifar10_frog_preset_selects_frogs():
    cfg = compose_train(["dataset=cifar10_frog"])
    assert cfg.dataset.name == "cifar10" and list(cfg.dataset.classes) == ["frog"]


@pytest.mark.parametrize(
    "override,fragment",
    [
        ("dataset.image_size=48", "dataset.image_size=48"),
        ("dataset.channels=2", "dataset.channels=2"),
        ("model.kernel_size=9", "model.kernel_size=9"),
        ("model.upsample=bilinearr", "model.upsample=bilinearr"),
        ("trainer.steps=0", "trainer.steps=0"),
        ("optim.lr_G=-1", "optim.lr_G=-1"),
    ],
)
def test_bad_values_name_the_key(override, fragment):
    with pytest.raises(UserError, match=fragment.replace(".", r"\.")):
        validate_config(compose_train([override]))


@pytest.mark.parametrize(
    "override, message",
    [
        ("optim.lr_G=nan", "optim.lr_G=nan must be a number > 0"),
        ("optim.lr_G=inf", "optim.lr_G=inf must be a number > 0"),
        ("model.d_dropout=nan", "model.d_dropout=nan must be a number in [0, 1)"),
        ("tricks.instance_noise=inf", "tricks.instance_noise=inf must be a number >= 0"),
        ("tricks.real_label=nan", "tricks.real_label=nan must be a number >= 0"),
        ("model.kernel_size=4.0", "model.kernel_size=4.0 is not allowed; choose one of 2, 3, 4, 5, 6, 7"),
        ("dataset.channels=3.0", "dataset.channels=3.0 is not allowed; choose one of 1, 3"),
        ("dataset.channels=true", "dataset.channels=true is not allowed; choose one of 1, 3"),
        ("trainer.seed=99999999999999999999", "trainer.seed=99999999999999999999 must be an integer below 2**63"),
    ],
)
def test_values_that_would_crash_inside_torch_are_refused_up_front(override, message):
    """Non-finite numbers, floats where an integer choice belongs, and seeds torch cannot take."""
    with pytest.raises(UserError) as error:
        validate_config(compose_train([override]))
    assert message in str(error.value)


def test_image_folder_without_path_says_what_to_add():
    with pytest.raises(UserError, match="dataset.path is required"):
        validate_config(compose_train(["dataset=image_folder"]))


def test_misspelled_dataset_lists_the_options():
    result = run_cli("train", "dataset=cifra10")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr
    assert "did you mean cifar10?" in lines[0]
    for option in group_options("dataset"):
        assert option in lines[0]


def test_cfg_job_prints_the_composed_config():
    result = run_cli("train", "--cfg", "job", "model.filters=32")
    assert result.returncode == 0, result.stderr
    cfg = OmegaConf.create(result.stdout)
    assert cfg.model.filters == 32 and cfg.dataset.name == "shapes"


def test_cli_help_lists_commands():
    result = run_cli("--help")
    assert result.returncode == 0
    assert "train" in result.stdout and "board" in result.stdout


def test_unknown_command_suggests():
    result = run_cli("trian")
    assert result.returncode == 2 and "did you mean train?" in result.stderr


def test_registries_match_the_names_validation_allows():
    from gan_lab.config.choices import DATASET_NAMES, LABELLED_DATASETS, LOSS_NAMES, MODEL_NAMES
    from gan_lab.data import DATASETS
    from gan_lab.data.labelled import LABELLED
    from gan_lab.models import MODELS
    from gan_lab.training.losses import LOSSES

    assert sorted(DATASETS) == sorted(DATASET_NAMES)
    assert sorted(MODELS) == sorted(MODEL_NAMES)
    assert sorted(LOSSES) == sorted(LOSS_NAMES)
    assert tuple(LABELLED) == LABELLED_DATASETS


@pytest.mark.parametrize("group,option", all_choices())
def test_every_key_of_every_option_has_a_schema_rule(group, option):
    """The schema is the single source of truth: a key added to conf/ without a rule fails here."""
    from gan_lab.config.schema import rules_for
    from gan_lab.config.validate import _leaves

    cfg = compose_train([f"{group}={option}", *EXTRA.get(option, [])])
    names = {g: cfg[g].name for g in ("dataset", "model", "loss", "optim")}
    keys = {key for key, _ in _leaves(OmegaConf.to_container(cfg, resolve=False))}
    assert keys - set(rules_for(names)) == set()
