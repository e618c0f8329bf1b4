"""gan-lab probe: D's conv features pooled to 4x4, a linear classifier on MNIST files in the real format,
trained D vs random D."""

from __future__ import annotations

import json

import pytest
import torch
from afterhelpers import command, copy_run, failing, write_patterned_mnist
from omegaconf import OmegaConf

from gan_lab.metrics.linear_probe import d_features
from gan_lab.errors import UserError
from gan_lab.models import build_models
from gan_lab.runs.layout import read_scalars


def test_d_features_pool_every_conv_layer_to_4x4():
    cfg = OmegaConf.create(
        {"model": OmegaConf.load("conf/model/dcgan.yaml"), "dataset": {"image_size": 32, "channels": 1}}
    )
    cfg.model.filters = 8
    _, D = build_models(cfg)
    features = d_features(D, torch.randint(0, 256, (5, 1, 32, 32), dtype=torch.uint8), torch.device("cpu"))
    # convs 8 x 16x16, 16 x 8x8, 32 x 4x4 pooled to 4x4, then the 1x1 logit conv
    assert features.shape == (5, (8 + 16 + 32) * 16 + 1)


def test_probe_needs_a_conv_discriminator():
    cfg = OmegaConf.create(
        {"model": OmegaConf.load("conf/model/mlp.yaml"), "dataset": {"image_size": 16, "channels": 1}}
    )
    _, D = build_models(cfg)
    with pytest.raises(UserError, match="probe needs a convolutional D"):
        d_features(D, torch.zeros(2, 1, 16, 16, dtype=torch.uint8), torch.device("cpu"))


def test_probe_on_mnist_files_reports_trained_and_random_d(tiny_run, tmp_path, capsys):
    run = copy_run(tiny_run, tmp_path)
    write_patterned_mnist(tmp_path / "data")
    args = ("probe", str(run), f"data_dir={tmp_path / 'data'}", "subset=200", "test_subset=100", "epochs=15")
    assert command(*args) == 0
    out = capsys.readouterr().out
    assert "test accuracy, trained D" in out and "test accuracy, random D" in out
    record = json.loads((run / "probe.json").read_text())
    assert record["dataset"] == "mnist" and record["num_train"] == 200 and record["num_test"] == 100
    # the classes are learnable bars: both probes are far above chance (10%)
    assert record["accuracy_trained_D"] > 0.5 and record["accuracy_random_D"] > 0.5
    scalars = read_scalars(run)
    assert scalars["probe/accuracy_trained_D"] == [(4, pytest.approx(record["accuracy_trained_D"]))]
    command(*args)
    assert json.loads((run / "probe.json").read_text()) == record  # seeded


def test_probe_errors_are_one_line(tiny_run, tmp_path, capsys):
    err = failing(capsys, "probe", str(tiny_run), "dataset=svhn")
    assert "dataset=svhn must be one of mnist, cifar10" in err and err.count("\n") == 1
    err = failing(capsys, "probe", str(tiny_run), f"data_dir={tmp_path}")
    assert "MNIST files not found" in err and err.count("\n") == 1
