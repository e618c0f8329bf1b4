"""Differentiable augmentation: shapes, ranges and gradients of each op; ADA's p in real runs and on resume."""

from __future__ import annotations

import pytest
import torch
from conftest import run_cli, train_tiny
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from test_resume import assert_same_weights, final_checkpoint

from gan_lab.training.augment import POLICY_OPS, Augment, augment, cutout, flip, translation

OPS = [op for ops in POLICY_OPS.values() for op in ops]
GEOMETRIC = (flip, translation, cutout)  # move or blank pixels: values stay in [-1, 1]


def images(n: int = 32, channels: int = 3, size: int = 16) -> torch.Tensor:
    return torch.rand(n, channels, size, size, generator=torch.Generator().manual_seed(0)) * 2 - 1


@pytest.mark.parametrize("op", OPS, ids=lambda op: op.__name__)
def test_each_op_keeps_shape_and_range_and_passes_gradients(op):
    x = images().requires_grad_(True)
    torch.manual_seed(0)
    y = op(x, 1.0)
    assert y.shape == x.shape and y.dtype == x.dtype
    assert not torch.equal(y, x)  # p = 1: every image changes
    bound = 1.0 if op in GEOMETRIC else 3.0  # colour ops shift and scale around a mean, within +-3
    assert y.abs().max() <= bound + 1e-6
    (y * torch.randn_like(y)).sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


@pytest.mark.parametrize("op", OPS, ids=lambda op: op.__name__)
def test_p_zero_is_the_identity(op):
    x = images()
    assert torch.equal(op(x, 0.0), x)


def test_ops_are_drawn_per_image():
    x = images(n=200)
    torch.manual_seed(0)
    y = flip(x, 0.5)
    changed = (y != x).flatten(1).any(1).float().mean().item()
    assert 0.35 < changed < 0.65


def test_translation_moves_content_and_cutout_blanks_a_square():
    x = torch.zeros(1, 1, 8, 8)
    x[0, 0, 4, 4] = 1.0
    torch.manual_seed(1)
    shifted = [translation(x, 1.0) for _ in range(20)]
    assert all(s.sum() <= 1.0 for s in shifted) and any(s[0, 0, 4, 4] == 0 for s in shifted)
    blank = cutout(torch.ones(64, 1, 8, 8), 1.0)
    zeros = (blank == 0).flatten(1).sum(1)
    assert zeros.max() <= 16 and zeros.max() > 0  # at most a 4 x 4 square (ratio 0.5 of 8 px)


def test_generator_gets_gradients_through_the_augmentation():
    G = torch.nn.Linear(4, 3 * 8 * 8)
    D = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(3 * 8 * 8, 1))
    fake = torch.tanh(G(torch.randn(16, 4))).view(16, 3, 8, 8)
    D(augment(fake, 1.0, list(POLICY_OPS))).mean().backward()
    assert G.weight.grad is not None and G.weight.grad.abs().sum() > 0


def test_ada_moves_p_toward_the_target_and_stays_in_unit_interval():
    ada = Augment("ada", 0.5, ["flip"], target=0.6, ada_images=1000)
    assert ada.adjust(0.9, 100) == {"augment/p": pytest.approx(0.6)}  # D too sure of reals: more augmentation
    ada.adjust(0.1, 300)
    assert ada.p == pytest.approx(0.3)
    ada.adjust(0.0, 10_000)
    assert ada.p == 0.0
    ada.adjust(1.0, 10_000)
    assert ada.p == 1.0
    fixed = Augment("diffaug", 0.5, ["flip"])
    fixed.adjust(1.0, 10_000)
    assert fixed.p == 0.5
    assert Augment().adjust(1.0, 100) == {}


def scalars(run_dir, tag: str) -> list[float]:
    acc = EventAccumulator(str(run_dir), size_guidance={"scalars": 0})
    acc.Reload()
    return [e.value for e in acc.Scalars(tag)]


ADA = ["augment=ada", "augment.ada_images=256", "trainer.log_every=2", "trainer.checkpoint_every=3"]


def test_ada_p_rises_on_a_tiny_dataset_and_falls_when_d_is_unsure(tmp_path):
    tiny = tmp_path / "tiny"  # 16 images: D soon calls every real image real, r_t > 0.6
    train_tiny(tiny, *ADA, "dataset.num_images=16", "trainer.steps=12", "optim.lr_D=1e-3")
    p, r_t = scalars(tiny, "augment/p"), scalars(tiny, "augment/r_t")
    assert p[-1] > 0 and r_t[-1] > 0.6, (p, r_t)
    unsure = tmp_path / "unsure"  # started at 0.5 with a D that barely learns (its init at seed 2 scores r_t < 0.6)
    train_tiny(unsure, *ADA, "augment.p=0.5", "trainer.steps=4", "optim.lr_D=1e-6", "trainer.seed=2")
    p, r_t = scalars(unsure, "augment/p"), scalars(unsure, "augment/r_t")
    assert p[-1] < 0.5 and r_t[0] < 0.6, (p, r_t)


def test_resume_with_adaptive_p_is_bit_identical(tmp_path):
    straight, resumed = tmp_path / "straight", tmp_path / "resumed"
    train_tiny(straight, *ADA, "augment.p=0.3", "reg=r1", "reg.every=2", "trainer.steps=8")
    train_tiny(resumed, *ADA, "augment.p=0.3", "reg=r1", "reg.every=2", "trainer.steps=4")
    saved_p = final_checkpoint(resumed)["augment"]["p"]
    assert saved_p != 0.3  # p moved before the checkpoint the resume starts from
    result = run_cli("train", f"resume={resumed}", "trainer.steps=8")
    assert result.returncode == 0, result.stdout + result.stderr
    a, b = final_checkpoint(straight), final_checkpoint(resumed)
    assert_same_weights(a, b)
    assert a["augment"] == b["augment"] and a["reg"] == b["reg"]
    assert scalars(straight, "augment/p") == scalars(resumed, "augment/p")
