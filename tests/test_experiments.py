"""Experiment presets: each composes to the setup it names, and each trains for real."""

from __future__ import annotations

import pytest
from conftest import run_cli
from hydra import compose, initialize_config_dir

from gan_lab.config.packaged import config_dir, group_options
from gan_lab.config.validate import validate_config

PRESETS = group_options("experiment")


def compose_experiment(name: str, *overrides: str):
    with initialize_config_dir(config_dir=str(config_dir()), version_base="1.3"):
        return compose(config_name="train", overrides=[f"experiment={name}", *overrides])


def test_the_presets_of_the_notes_exist():
    assert set(PRESETS) == {
        "dcgan_mnist", "dcgan_frog", "frog_tips", "frog_dlwp",
        "gray128_transpose", "gray128_resize", "mlp_mnist_broken", "mlp_mnist_fixed",
        "frog_modern", "mnist_modern",
    }  # fmt: skip


@pytest.mark.parametrize("name", PRESETS)
def test_preset_opens_with_its_setup_and_command(name):
    text = (config_dir() / "experiment" / f"{name}.yaml").read_text()
    assert text.startswith("# @package _global_\n# ")
    assert f"gan-lab train experiment={name}" in text
    validate_config(compose_experiment(name))


def test_frog_dlwp_has_the_books_settings():
    cfg = compose_experiment("frog_dlwp")
    assert cfg.dataset.name == "cifar10" and list(cfg.dataset.classes) == ["frog"]
    assert cfg.model.name == "dlwp" and cfg.model.latent_dim == 32 and cfg.model.d_dropout == 0.4
    assert cfg.optim.name == "rmsprop" and cfg.optim.lr_D == 8e-4 and cfg.optim.lr_G == 4e-4
    assert cfg.optim.clip_value == 1.0
    assert cfg.tricks.flip is True and cfg.tricks.additive == 0.05
    assert cfg.trainer.batch_size == 20 and cfg.trainer.steps == 10000 and cfg.trainer.sample_every == 100


def test_frog_tips_and_mlp_broken_settings():
    tips = compose_experiment("frog_tips")
    assert tips.model.kernel_size == 5 and tips.model.filters == 128 and tips.model.norm_G == "batch"
    assert tips.tricks.flip and list(tips.tricks.soft_real) == [0.9, 1.0] and tips.tricks.noisy_p == 0.05
    broken = compose_experiment("mlp_mnist_broken")
    m = broken.model
    assert (m.g_activation, m.d_activation, m.init, m.g_output, m.d_output) == ("none", "none", "normal_1", "sigmoid", "sigmoid")
    assert list(m.hidden_G) == [200] and broken.dataset.image_size == 28 and broken.optim.lr_G == 1e-3


def test_command_line_overrides_beat_the_preset():
    cfg = compose_experiment("gray128_transpose", "dataset=image_folder", "dataset.path=/imgs", "model.filters=8")
    assert cfg.dataset.name == "image_folder" and cfg.dataset.image_size == 128 and cfg.dataset.channels == 1
    assert cfg.model.filters == 8 and cfg.model.upsample == "transpose"


@pytest.mark.slow
def test_every_preset_trains_for_real(tmp_path):
    """One multirun over every preset, on small shapes data so that no download is needed."""
    result = run_cli(
        "train", "-m", f"experiment={','.join(PRESETS)}", "dataset=shapes", "dataset.num_images=16",
        "trainer.steps=1", "trainer.batch_size=4", "trainer.num_samples=4", "metrics.sweep_samples=0",
        f"hydra.sweep.dir={tmp_path}",
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    jobs = [p for p in tmp_path.iterdir() if p.is_dir()]
    assert len(jobs) == len(PRESETS)
    assert all((job / "summary.json").is_file() for job in jobs)
