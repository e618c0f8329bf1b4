"""gan-lab evaluate: FID/KID by torchmetrics on a custom feature module, the weights-free ratios, the class
histogram, metrics.json and TensorBoard, and the one-line failures when Inception weights are missing."""

from __future__ import annotations

import json
import math
import urllib.request

import pytest
import torch
from afterhelpers import FEATURES, command, copy_run, failing, write_patterned_mnist
from omegaconf import OmegaConf

from gan_lab.metrics.class_metrics import class_metrics
from gan_lab.data.labelled import load_labelled
from gan_lab.data.shapes import draw_shapes
from gan_lab.metrics import settings
from gan_lab.metrics.features import FeatureExtractor, RandomConvFeatures
from gan_lab.metrics.fid import SampleQuality
from gan_lab.metrics.ratios import image_metrics
from gan_lab.models import build_models
from gan_lab.models.latent import latents
from gan_lab.runs.layout import read_scalars
from gan_lab.sweeps.index import run_row

CPU = torch.device("cpu")


def test_fid_and_kid_order_real_vs_real_below_real_vs_noise_and_fakes():
    real = draw_shapes(400, 16, 3, seed=1)
    quality = SampleQuality(FeatureExtractor(RandomConvFeatures(), "random", CPU), kid_subset_size=100)
    quality.add_real(real[:200].split(64))
    same = quality.score(real[200:].split(64))
    blurred = torch.nn.functional.avg_pool2d(real[200:].float(), 3, 1, 1).round().to(torch.uint8)
    worse = quality.score([blurred])
    noise = quality.score(
        [torch.randint(0, 256, (200, 3, 16, 16), generator=torch.Generator().manual_seed(0), dtype=torch.uint8)]
    )
    assert 0 <= same["fid"] < worse["fid"] < noise["fid"]
    assert same["kid"] < worse["kid"] < noise["kid"]
    assert "inception_score" not in same  # no class logits without Inception
    assert quality.score(real[200:].split(64)) == same  # real features kept; KID subsets seeded


def test_checkerboard_transposed_conv_k3_at_init_above_resize_conv():
    real = draw_shapes(128, 32, 3, seed=0)
    scores = {}
    for upsample in ("transpose", "nearest"):
        cfg = OmegaConf.create(
            {"model": OmegaConf.load("conf/model/dcgan.yaml"), "dataset": {"image_size": 32, "channels": 3}}
        )
        cfg.model.update(kernel_size=3, upsample=upsample, filters=16)
        torch.manual_seed(0)
        G, _ = build_models(cfg)  # at init; BatchNorm on batch statistics, as in the first training step
        with torch.no_grad():
            fake = G(latents(128, cfg.model.latent_dim, "normal", seed=0))
        fake_uint8 = fake.add(1).mul(127.5).round().clamp(0, 255).to(torch.uint8)
        scores[upsample] = image_metrics(fake_uint8, real, diversity_samples=64)
    assert scores["transpose"]["checkerboard"] > 10 * scores["nearest"]["checkerboard"]
    assert 0.5 < scores["nearest"]["checkerboard"] < 2
    assert all(s["diversity"] > 0 for s in scores.values())


def test_diversity_ratio_sees_a_collapsed_batch():
    real = draw_shapes(64, 16, 3, seed=2)
    collapsed = real[:1].expand(64, -1, -1, -1)
    assert image_metrics(collapsed, real, 64)["diversity"] < 0.01
    assert 0.8 < image_metrics(draw_shapes(64, 16, 3, seed=3), real, 64)["diversity"] < 1.25


def test_class_histogram_follows_the_classes_of_the_samples(tmp_path):
    write_patterned_mnist(tmp_path)
    cfg = OmegaConf.create({"dataset": {"name": "mnist", "image_size": 16, "channels": 1}})
    m = OmegaConf.merge(settings.defaults(), {"classifier_epochs": 8, "classifier_train": 300})
    test_x, test_y, _ = load_labelled("mnist", tmp_path, False, 16, 1)
    threes = test_x[test_y == 3]
    found = class_metrics(cfg, threes, m, tmp_path, seed=0, device=CPU)
    assert found["classifier_accuracy"] > 0.8
    assert found["class_histogram"]["3"] > 0.8 and math.isclose(sum(found["class_histogram"].values()), 1)


def test_evaluate_writes_metrics_json_and_tensorboard_and_leaves_the_summary(tiny_run, tmp_path, capsys):
    run = copy_run(tiny_run, tmp_path)
    summary = (run / "summary.json").read_text()
    args = ("evaluate", str(run), "n=64", "metrics.num_real=96", FEATURES)
    assert command(*args) == 0
    out = capsys.readouterr().out
    assert "64 generated vs 96 real images" in out and "fid" in out
    first = json.loads((run / "metrics.json").read_text())
    assert first["step"] == 4 and first["checkpoint"] == "checkpoints/step_000004.pt" and first["generator"] == "G"
    assert first["num_generated"] == 64 and first["num_real"] == 96
    for key in ("fid", "kid", "kid_std", "checkerboard", "diversity"):
        assert math.isfinite(first[key]) and first[key] >= 0, key
    assert "inception_score" not in first  # needs Inception's class logits
    assert 0 <= first["precision"] <= 1 and 0 <= first["recall"] <= 1  # Kynkaanniemi et al., torch-fidelity
    scalars = read_scalars(run)
    assert scalars["eval/fid"] == [(4, pytest.approx(first["fid"], rel=1e-5))]
    assert (run / "summary.json").read_text() == summary  # the trainer's record stays the trainer's
    assert run_row(run)["metrics"]["fid"] == first["fid"]  # what compare and the sweep index rank by
    command(*args)  # the same command gives the same numbers
    assert json.loads((run / "metrics.json").read_text()) == first


def test_evaluate_without_inception_weights_offline_fails_in_one_line(tiny_run, tmp_path, monkeypatch, capsys):
    # Offline, simulated without touching the network: every HTTPS request goes to a closed local port.
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setenv("https_proxy", "http://127.0.0.1:9")
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.setattr(urllib.request, "_opener", None)  # rebuilt from the environment above
    run = copy_run(tiny_run, tmp_path)
    err = failing(capsys, "evaluate", str(run), "n=8")
    assert err.count("\n") == 1 and err.startswith("error: evaluate needs the Inception-v3 FID weights")
    assert (
        "metrics.inception_weights=<file>" in err
        and "metrics.features=" in err
        and "weights-inception-2015-12-05" in err
    )
    assert not (run / "metrics.json").exists()

    missing = failing(capsys, "evaluate", str(run), f"metrics.inception_weights={tmp_path / 'nope.pth'}")
    assert "metrics.inception_weights=" in missing and "does not exist" in missing and missing.count("\n") == 1
    evil = tmp_path / "evil.pth"
    torch.save({"w": object()}, evil)
    refused = failing(capsys, "evaluate", str(run), f"metrics.inception_weights={evil}")
    assert "is not a tensor-only weights file" in refused


def test_evaluate_bad_options_fail_in_one_line(tiny_run, tmp_path, capsys):
    cases = {
        "metrics.features=nothing": "must be inception or the python path",
        "metrics.features=gan_lab.nowhere.Net": "cannot import gan_lab.nowhere",
        "metrics.features=torch.nn.functional.relu": "could not be built with no arguments",
        "metrics.features=torch.nn.Identity": "returned (128, 3, 16, 16) for 128 images; it must return N x D",
        "metrics.features=collections.OrderedDict": "built a OrderedDict, not a torch.nn.Module",
        "metrics.classifier=maybe": "must be true or false",
        "metrics.num_sample=5": "did you mean metrics.num_samples?",
    }
    for arg, expected in cases.items():
        err = failing(capsys, "evaluate", str(tiny_run), "n=8", arg)
        assert expected in err and err.count("\n") == 1, err
    err = failing(capsys, "evaluate", str(tiny_run), "n=8", FEATURES, "metrics.classifier=true")
    assert "metrics.classifier=true needs a labelled dataset (mnist, cifar10); this run trained on shapes" in err


@pytest.mark.slow
def test_evaluate_with_a_local_inception_weights_file(tiny_run, tmp_path, monkeypatch, capsys):
    """The library's own Inception-v3 path end to end, with randomly initialised weights saved to a file."""
    import torch_fidelity.feature_extractor_inceptionv3 as fidelity

    with monkeypatch.context() as patch:
        patch.setattr(fidelity, "load_state_dict_from_url", lambda *a, **k: {})
        patch.setattr(fidelity.FeatureExtractorInceptionV3, "load_state_dict", lambda self, state, *a, **k: None)
        net = fidelity.FeatureExtractorInceptionV3("inception-v3-compat", ["2048"])
    weights = tmp_path / "inception.pth"
    torch.save(net.state_dict(), weights)
    run = copy_run(tiny_run, tmp_path)
    assert command("evaluate", str(run), "n=12", "metrics.num_real=12", f"metrics.inception_weights={weights}") == 0
    found = json.loads((run / "metrics.json").read_text())
    assert found["features"] == "inception"
    for key in ("fid", "kid", "inception_score", "inception_score_std"):
        assert math.isfinite(found[key]), key
    assert found["inception_score"] > 1 - 1e-6  # exp(mean KL), KL >= 0
