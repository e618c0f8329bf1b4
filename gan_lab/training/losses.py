"""Adversarial losses on D's raw outputs (logits / critic values): `loss=<name>`.

Each loss gives D's loss from its outputs on real and generated batches (with per-image targets
where the loss uses labels) and G's loss from D's output on generated images.
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F


# Keras clips D's probabilities to [1e-7, 1 - 1e-7] inside its binary cross-entropy: logits beyond +-16.1 count
# as 16.1. The Keras book's recipe (labels + 0.05 * U[0, 1)) relies on it, see BCELoss.
KERAS_LOGIT_LIMIT = math.log((1 - 1e-7) / 1e-7)


class BCELoss:
    """Binary cross-entropy with logits; G uses the non-saturating loss -log D(G(z)).

    With targets outside [0, 1] (additive label noise, labels above 1) the loss falls without bound as D's
    logit runs off in the target's direction: in frog_dlwp D's loss reached -1e8 by step 1,500 and G learnt
    nothing. `targets_leave_unit_interval` stops each logit at Keras' limit in that direction only, as the
    recipe's own framework did; a logit on the wrong side keeps its full gradient.
    """

    uses_labels = True
    gp_weight = 0.0

    def __init__(self, targets_leave_unit_interval: bool = False):
        self.capped = targets_leave_unit_interval

    def _bce(self, out: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        if self.capped:
            out = torch.where(target > 1, out.clamp(max=KERAS_LOGIT_LIMIT), out)
            out = torch.where(target < 0, out.clamp(min=-KERAS_LOGIT_LIMIT), out)
        return F.binary_cross_entropy_with_logits(out, target)

    def d_loss(self, real_out, fake_out, real_target, fake_target) -> torch.Tensor:
        return self._bce(real_out, real_target) + self._bce(fake_out, fake_target)

    def g_loss(self, fake_out: torch.Tensor, real_value: float, fake_value: float) -> torch.Tensor:
        return self._bce(fake_out, torch.full_like(fake_out, real_value))

    def r_t(self, real_out: torch.Tensor, fake_out: torch.Tensor, real_value: float, fake_value: float) -> torch.Tensor:
        """ADA's overfitting signal E[sign(D(x_real))]: +1 when D calls every real image real (logit 0 decides)."""
        return _side_of(real_out, 0.0, real_value, fake_value)


class MinimaxLoss(BCELoss):
    """The original saturating G loss: minimise log(1 - D(G(z))). Its gradient vanishes when D wins."""

    def g_loss(self, fake_out: torch.Tensor, real_value: float, fake_value: float) -> torch.Tensor:
        return -self._bce(fake_out, torch.full_like(fake_out, fake_value))


class LSGANLoss:
    """Least squares (Mao et al. 2017): D regresses its targets, G pulls D(G(z)) to the real value."""

    uses_labels = True
    gp_weight = 0.0

    def d_loss(self, real_out, fake_out, real_target, fake_target) -> torch.Tensor:
        return 0.5 * (F.mse_loss(real_out, real_target) + F.mse_loss(fake_out, fake_target))

    def g_loss(self, fake_out: torch.Tensor, real_value: float, fake_value: float) -> torch.Tensor:
        return 0.5 * F.mse_loss(fake_out, torch.full_like(fake_out, real_value))

    def r_t(self, real_out: torch.Tensor, fake_out: torch.Tensor, real_value: float, fake_value: float) -> torch.Tensor:
        """ADA's r_t with D's verdict changing halfway between its two targets."""
        return _side_of(real_out, (real_value + fake_value) / 2, real_value, fake_value)


class HingeLoss:
    """Hinge loss (Lim & Ye 2017; SN-GAN, BigGAN): no labels."""

    uses_labels = False
    gp_weight = 0.0

    def d_loss(self, real_out, fake_out, real_target=None, fake_target=None) -> torch.Tensor:
        return F.relu(1.0 - real_out).mean() + F.relu(1.0 + fake_out).mean()

    def g_loss(self, fake_out: torch.Tensor, real_value: float = 1.0, fake_value: float = 0.0) -> torch.Tensor:
        return -fake_out.mean()

    def r_t(self, real_out: torch.Tensor, fake_out: torch.Tensor, real_value=1.0, fake_value=0.0) -> torch.Tensor:
        """E[sign(D(x_real))]: real images score above 0 whatever the label convention (the loss has no labels)."""
        return torch.sign(real_out).mean()


class WGANGPLoss(HingeLoss):
    """Wasserstein loss with gradient penalty (Gulrajani et al. 2017); the trainer adds the penalty."""

    def __init__(self, gp_weight: float = 10.0):
        self.gp_weight = gp_weight

    def d_loss(self, real_out, fake_out, real_target=None, fake_target=None) -> torch.Tensor:
        return fake_out.mean() - real_out.mean()

    def r_t(self, real_out: torch.Tensor, fake_out: torch.Tensor, real_value=1.0, fake_value=0.0) -> torch.Tensor:
        return relative_r_t(real_out, fake_out)


class RpGANLoss(HingeLoss):
    """Relativistic pairing loss (Jolicoeur-Martineau 2018; R3GAN, Huang et al. 2024): no labels.

    Real image i is paired with generated image i: D minimises softplus(D(G(z_i)) - D(x_i)), G the
    mirror image softplus(D(x_i) - D(G(z_i))), so G's step needs D's outputs on a real batch too.
    """

    pairs_real = True

    def d_loss(self, real_out, fake_out, real_target=None, fake_target=None) -> torch.Tensor:
        return F.softplus(fake_out - real_out).mean()

    def g_loss(self, fake_out, real_value=1.0, fake_value=0.0, real_out=None) -> torch.Tensor:
        return F.softplus(real_out - fake_out).mean()

    r_t = WGANGPLoss.r_t  # its D has no fixed zero either


def _side_of(real_out: torch.Tensor, threshold: float, real_value: float, fake_value: float) -> torch.Tensor:
    """E[sign] of D's outputs on real images against its decision threshold, +1 on the 'real' side."""
    return torch.sign(real_out - threshold).mean() * (1.0 if real_value > fake_value else -1.0)


def relative_r_t(real_out: torch.Tensor, fake_out: torch.Tensor) -> torch.Tensor:
    """ADA's r_t where only differences of D's outputs count (wgan_gp, rpgan): E[sign(D(x_i) - D(G(z_i)))].

    Their D's outputs drift as a whole during training, and E[sign(D(x_real))] follows the drift (it went from
    -0.97 to 0.96 within one frog_modern run) rather than how surely D tells real images from generated ones.
    """
    return torch.sign(real_out - fake_out).mean()


def gradient_penalty(D: nn.Module, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """E[(||grad_x D(x)|| - 1)^2] at random points between real and generated images.

    Always in fp32, also inside bf16 autocast: the penalty and its double backward are too sensitive
    to rounding for bf16.
    """
    real, fake = real.float(), fake.float()
    with torch.autocast(real.device.type, enabled=False):
        alpha = torch.rand(real.shape[0], *([1] * (real.dim() - 1)), device=real.device)
        mixed = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
        (grad,) = torch.autograd.grad(D(mixed).float().sum(), mixed, create_graph=True)
        return (grad.flatten(1).norm(dim=1) - 1).pow(2).mean()


LOSSES = {
    "bce": BCELoss, "minimax": MinimaxLoss, "lsgan": LSGANLoss, "hinge": HingeLoss, "wgan_gp": WGANGPLoss,
    "rpgan": RpGANLoss,
}  # fmt: skip


def build_loss(cfg, target_range: tuple[float, float] = (0.0, 1.0)) -> BCELoss | LSGANLoss | HingeLoss:
    """The configured loss (`loss.name`, plus `loss.gp_weight` for wgan_gp); `target_range`: D's lowest and
    highest label (LabelTricks.target_range)."""
    if cfg.name == "wgan_gp":
        return WGANGPLoss(cfg.gp_weight)
    if issubclass(LOSSES[cfg.name], BCELoss):
        return LOSSES[cfg.name](target_range[0] < 0 or target_range[1] > 1)
    return LOSSES[cfg.name]()
