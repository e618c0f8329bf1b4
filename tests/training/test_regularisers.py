"""R1/R2 zero-centred penalties against hand computations, lazy scaling, fp32 under bf16, every model; RpGAN."""

from __future__ import annotations

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from test_tricks_and_losses import run_steps

from gan_lab.training.losses import build_loss
from gan_lab.training.regularisers import Regulariser, zero_centred_penalty


class Square(nn.Module):
    """D(x) = (w . x)^2: grad_x D = 2 (w . x) w, so ||grad||^2 = 4 (w . x)^2 ||w||^2 by hand."""

    def __init__(self, w: torch.Tensor):
        super().__init__()
        self.w = nn.Parameter(w)

    def forward(self, x):
        return (x.flatten(1) @ self.w).square()


def test_penalty_matches_the_hand_computed_value():
    torch.manual_seed(0)
    w, x = torch.randn(12), torch.randn(5, 3, 2, 2)
    D = Square(w.clone())
    by_hand = (4 * (x.flatten(1) @ w).square() * w.square().sum()).mean()
    assert torch.allclose(zero_centred_penalty(D, x), by_hand, rtol=1e-5)
    linear = nn.Linear(12, 1)  # constant gradient w: penalty ||w||^2 whatever x is
    D = nn.Sequential(nn.Flatten(), linear)
    assert torch.allclose(zero_centred_penalty(D, x), linear.weight.square().sum())


def test_penalty_trains_d_and_stays_fp32_under_bf16_autocast():
    D = Square(torch.randn(12))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        penalty = zero_centred_penalty(D, torch.randn(4, 12))
    assert penalty.dtype == torch.float32
    penalty.backward()  # the double backward reaches D's weights
    assert D.w.grad is not None and D.w.grad.abs().sum() > 0


def test_lazy_steps_and_their_scaling():
    torch.manual_seed(0)
    D = Square(torch.randn(12))
    real, fake = torch.randn(4, 12), torch.randn(4, 12)
    r1 = zero_centred_penalty(D, real)
    reg = Regulariser("r1", gamma=0.2, every=3)
    values = [reg.penalty(D, real, fake) for _ in range(7)]
    assert [v is not None for v in values] == [True, False, False, True, False, False, True]
    assert torch.allclose(values[0], 0.5 * 0.2 * 3 * r1)  # gamma / 2, times the lazy interval
    both = Regulariser("r1_r2", gamma=0.2, every=1).penalty(D, real, fake)
    assert torch.allclose(both, 0.1 * (r1 + zero_centred_penalty(D, fake)))
    assert Regulariser().penalty(D, real, fake) is None
    reg.load_state_dict({"d_steps": 3})
    assert reg.penalty(D, real, fake) is not None and reg.state_dict() == {"d_steps": 4}


def test_rpgan_pairs_each_real_with_a_generated_image():
    loss = build_loss(type("cfg", (), {"name": "rpgan"})())
    real, fake = torch.tensor([2.0, -1.0]), torch.tensor([0.0, 1.0])
    assert torch.allclose(loss.d_loss(real, fake), F.softplus(fake - real).mean())
    assert torch.allclose(loss.g_loss(fake, 1.0, 0.0, real), F.softplus(real - fake).mean())


SMALL = {
    "dcgan": ["model.filters=4"],
    "resnet": ["model.filters=4"],
    "mlp": ["model.hidden_G=[16]", "model.hidden_D=[16]"],
    "dlwp": ["model.filters_G=8", "model.filters_D=8", "dataset.image_size=32"],
}


@pytest.mark.parametrize("model", SMALL)
def test_every_model_trains_with_the_modern_recipe(tmp_path, model):
    """One step of augment=diffaug + reg=r1_r2 (on every D step) + loss=rpgan, in bf16 autocast where the CPU has it."""
    trainer = run_steps(tmp_path, f"model={model}", *SMALL[model], "augment=diffaug", "reg=r1_r2", "reg.every=1",
                        "loss=rpgan", "trainer.precision=auto", steps=1)  # fmt: skip
    assert trainer.reg.d_steps == 1
