"""The doctor's checks before training: each fires on a model built to break it, none on healthy models."""

from __future__ import annotations

import logging

import pytest
import torch.nn as nn
from hydra import compose, initialize_config_dir

from gan_lab.config.packaged import config_dir, group_options
from gan_lab.doctor.names import STATIC_CHECKS
from gan_lab.doctor.static import static_findings, warn_about_models
from gan_lab.models import build_models
from gan_lab.models.base import Discriminator, Generator
from gan_lab.models.dcgan import DCGANDiscriminator, DCGANGenerator
from gan_lab.models.mlp import MLPDiscriminator, MLPGenerator


def compose_cfg(*overrides: str):
    with initialize_config_dir(config_dir=str(config_dir()), version_base="1.3"):
        return compose(config_name="train", overrides=list(overrides))


def checks(G, D, loss="bce", latent_dim=8) -> set[tuple[str, str]]:
    return {(f.check, f.net) for f in static_findings(G, D, latent_dim=latent_dim, loss=loss)}


class SeqG(Generator):
    """A user-style generator: any Sequential from z (N x 8) to 1 x 16 x 16 images."""

    def __init__(self, *layers: nn.Module):
        super().__init__()
        self.net, self.latent_dim = nn.Sequential(*layers), 8


class SeqD(Discriminator):
    def __init__(self, *layers: nn.Module):
        super().__init__()
        self.net = nn.Sequential(*layers)


def good_G() -> SeqG:
    return SeqG(nn.Linear(8, 64), nn.ReLU(), nn.Linear(64, 256), nn.Tanh(), nn.Unflatten(1, (1, 16, 16)))


def good_D() -> SeqD:
    return SeqD(nn.Conv2d(1, 8, 4, 2, 1), nn.LeakyReLU(0.2), nn.Flatten(), nn.Linear(8 * 8 * 8, 1))


def test_hand_written_healthy_models_pass_every_check():
    assert checks(good_G(), good_D()) == set()


def test_kernel_not_divisible_by_stride():
    G = SeqG(
        nn.Linear(8, 8 * 8 * 8), nn.ReLU(), nn.Unflatten(1, (8, 8, 8)), nn.ConvTranspose2d(8, 1, 3, 2, 1, 1), nn.Tanh()
    )
    D = SeqD(nn.Conv2d(1, 8, 3, 2, 1), nn.LeakyReLU(0.2), nn.Flatten(), nn.Linear(8 * 8 * 8, 1))
    assert checks(G, D) == {("kernel_stride", "G")}  # D's 3x3 stride-2 conv: judged by the samples, not statically


def test_output_range_sigmoid_and_relu():
    for last in (nn.Sigmoid(), nn.ReLU()):
        G = SeqG(nn.Linear(8, 64), nn.ReLU(), nn.Linear(64, 256), last, nn.Unflatten(1, (1, 16, 16)))
        assert checks(G, good_D()) == {("output_range", "G")}
    assert ("output_range", "G") in checks(DCGANGenerator(8, 16, 1, filters=4, output="sigmoid"), good_D())


def test_double_sigmoid_configured_and_hand_written():
    D = SeqD(nn.Conv2d(1, 8, 4, 2, 1), nn.LeakyReLU(0.2), nn.Flatten(), nn.Linear(512, 1), nn.Sigmoid())
    assert checks(good_G(), D) == {("double_sigmoid", "D")}
    mlp_D = MLPDiscriminator(16, 1, [32], output="sigmoid")
    assert checks(good_G(), mlp_D) == {("double_sigmoid", "D")}
    message = static_findings(good_G(), D, latent_dim=8, loss="hinge")[0].message
    assert "loss=hinge" in message and "d_output=none" in message


def test_stacked_linear_layers_even_through_batchnorm_and_reshapes():
    assert checks(MLPGenerator(8, 16, 1, [32], act="none"), good_D()) == {("linear_stack", "G")}
    G = SeqG(
        nn.Linear(8, 64),
        nn.BatchNorm1d(64),
        nn.Dropout(0.1),
        nn.Linear(64, 256),
        nn.Tanh(),
        nn.Unflatten(1, (1, 16, 16)),
    )
    found = static_findings(G, good_D(), latent_dim=8)
    assert [(f.check, f.net) for f in found] == [("linear_stack", "G")] and "0 -> 3" in found[0].message
    D = SeqD(nn.Flatten(), nn.Linear(256, 32), nn.Linear(32, 1))
    assert checks(good_G(), D) == {("linear_stack", "D")}


def test_residual_shortcuts_are_not_stacked_linear_layers():
    """A ResNet block's 1x1 shortcut conv follows a conv in run order, but reads the block's input."""
    G, D = build_models(compose_cfg("model=resnet", "dataset.image_size=32", "model.filters=8"))
    assert checks(G, D, latent_dim=128) == set()


def test_init_far_from_the_recipe():
    G = MLPGenerator(16, 16, 1, [32], init="normal_1", output="tanh")
    found = static_findings(G, good_D(), latent_dim=16)
    assert [(f.check, f.net) for f in found] == [("init_scale", "G")]
    message = found[0].message
    assert "dense1 (std" in message and "to_image (std" in message and "output is saturated" in message
    for scheme in ("dcgan", "xavier", "default"):
        assert checks(MLPGenerator(8, 16, 1, [32], init=scheme), MLPDiscriminator(16, 1, [32], init=scheme)) == set()


def test_batchnorm_on_G_output_and_D_input():
    G = SeqG(
        nn.Linear(8, 64), nn.ReLU(), nn.Linear(64, 256), nn.BatchNorm1d(256), nn.Tanh(), nn.Unflatten(1, (1, 16, 16))
    )
    D = SeqD(nn.Conv2d(1, 8, 4, 2, 1), nn.BatchNorm2d(8), nn.LeakyReLU(0.2), nn.Flatten(), nn.Linear(512, 1))
    assert checks(G, D) == {("norm_placement", "G"), ("norm_placement", "D")}


def test_batchnorm_in_the_critic_under_wgan_gp():
    D = DCGANDiscriminator(16, 1, filters=4)
    assert checks(DCGANGenerator(8, 16, 1, filters=4), D, loss="wgan_gp") == {("wgan_batchnorm", "D")}
    assert checks(DCGANGenerator(8, 16, 1, filters=4), D, loss="bce") == set()


def test_every_finding_names_a_known_check_and_the_checks_leave_models_untouched():
    G = MLPGenerator(8, 16, 1, [32], act="none", output="sigmoid", norm="batch", init="normal_1")
    D = MLPDiscriminator(16, 1, [32], act="none", output="sigmoid", norm="batch", init="normal_1")
    before = {k: v.clone() for k, v in {**G.state_dict(), **D.state_dict()}.items()}
    found = static_findings(G, D, latent_dim=8)
    assert {f.check for f in found} == set(STATIC_CHECKS) - {"kernel_stride", "wgan_batchnorm"}
    after = {**G.state_dict(), **D.state_dict()}
    assert all((before[k] == after[k]).all() for k in before)  # BatchNorm running stats too
    assert G.training and D.training


@pytest.mark.parametrize(
    "overrides",
    [
        ("model=dcgan",), ("model=dcgan", "model.upsample=nearest"), ("model=dcgan", "model.upsample=pixel_shuffle"),
        ("model=dcgan", "model.norm_D=spectral", "model.downsample=avgpool"), ("model=dcgan", "model.norm_G=layer"),
        ("model=resnet", "model.norm_D=spectral"), ("model=mlp",),
        ("model=dlwp", "model.filters_G=8", "model.filters_D=8"),
    ],
)  # fmt: skip
def test_every_model_in_its_healthy_settings_passes(overrides):
    cfg = compose_cfg(*overrides, "dataset.image_size=32")
    if "filters" in cfg.model:
        cfg.model.filters = 8
    G, D = build_models(cfg)
    assert checks(G, D, loss=cfg.loss.name, latent_dim=cfg.model.latent_dim) == set()


# What each experiment preset reproduces on purpose; every other preset must pass silently.
PRESET_FINDINGS = {
    "mlp_mnist_broken": {  # the notes' four bugs
        ("output_range", "G"), ("double_sigmoid", "D"), ("linear_stack", "G"), ("linear_stack", "D"),
        ("init_scale", "G"), ("init_scale", "D"),
    },
    "gray128_transpose": {("kernel_stride", "G")},  # 3x3 stride-2 transposed convs (gray128_resize: the fix)
    "frog_tips": {("kernel_stride", "G")},  # the tips post's 5x5 stride-2 kernels
}  # fmt: skip


@pytest.mark.parametrize("preset", group_options("experiment"))
def test_presets_get_exactly_the_findings_they_reproduce(preset, caplog):
    cfg = compose_cfg(f"experiment={preset}", "dataset=shapes")
    for key in ("filters", "filters_G", "filters_D"):  # narrower nets, same structure
        if key in cfg.model:
            cfg.model[key] = 8
    G, D = build_models(cfg)
    with caplog.at_level(logging.WARNING):
        found = warn_about_models(G, D, cfg)
    assert {(f.check, f.net) for f in found} == PRESET_FINDINGS.get(preset, set())
    assert caplog.text.count("doctor: warning:") == len(found)
