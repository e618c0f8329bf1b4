"""D's targets and the label tricks of the GAN lore (`tricks=<preset>`), applied to D only.

Order of application: the convention (real/fake values, optionally flipped) -> soft ranges or
one-sided smoothing -> noisy labels (each label swapped with probability p) -> additive noise.
G's target stays hard: the convention's "real" value (0 under flip).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from omegaconf import DictConfig


@dataclass
class LabelTricks:
    real_label: float = 1.0
    fake_label: float = 0.0
    flip: bool = False  # real = fake_label, generated = real_label (the Keras book and tips post)
    soft_real: tuple[float, float] | None = None  # e.g. (0.9, 1.0), in the unflipped convention
    soft_fake: tuple[float, float] | None = None  # e.g. (0.0, 0.1)
    smooth: float | None = None  # one-sided: the real target, e.g. 0.9 (unflipped convention)
    noisy_p: float = 0.0  # probability that a D label is swapped to the other class
    additive: float = 0.0  # targets += additive * U[0, 1) (the Keras book's 0.05)

    @classmethod
    def from_config(cls, t: DictConfig) -> "LabelTricks":
        pair = lambda v: None if v is None else (float(v[0]), float(v[1]))  # noqa: E731
        return cls(
            real_label=float(t.real_label), fake_label=float(t.fake_label), flip=bool(t.flip),
            soft_real=pair(t.soft_real), soft_fake=pair(t.soft_fake),
            smooth=None if t.smooth is None else float(t.smooth),
            noisy_p=float(t.noisy_p), additive=float(t.additive),
        )  # fmt: skip

    def _mirror(self, value: float) -> float:
        """A value of the unflipped convention, expressed in the flipped one."""
        return self.real_label + self.fake_label - value if self.flip else value

    @property
    def real_value(self) -> float:
        """The hard target of the 'real' class in the active convention (G aims at it)."""
        return self._mirror(self.real_label)

    @property
    def fake_value(self) -> float:
        return self._mirror(self.fake_label)

    def target_range(self) -> tuple[float, float]:
        """The lowest and highest target D can be given (additive noise included)."""
        values = [self.real_label, self.fake_label, *(self.soft_real or ()), *(self.soft_fake or ())]
        values += [] if self.smooth is None else [self.smooth]
        values += [self._mirror(v) for v in values]
        return min(values), max(values) + self.additive

    def _draw(self, n: int, real: bool, like: torch.Tensor) -> torch.Tensor:
        """Targets for n images of one class, before noisy swaps and additive noise."""
        soft = self.soft_real if real else self.soft_fake
        if soft is not None:
            low, high = sorted((self._mirror(soft[0]), self._mirror(soft[1])))
            return torch.empty(n, device=like.device, dtype=like.dtype).uniform_(low, high)
        value = self.real_value if real else self.fake_value
        if real and self.smooth is not None:
            value = self._mirror(self.smooth)
        return torch.full((n,), value, device=like.device, dtype=like.dtype)

    def _targets(self, out: torch.Tensor, real: bool) -> torch.Tensor:
        n = out.shape[0]
        targets = self._draw(n, real, out)
        if self.noisy_p > 0:
            swap = torch.rand(n, device=out.device) < self.noisy_p
            targets = torch.where(swap, self._draw(n, not real, out), targets)
        if self.additive > 0:
            targets = targets + self.additive * torch.rand(n, device=out.device, dtype=out.dtype)
        return targets

    def d_targets(self, real_out: torch.Tensor, fake_out: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Targets for D's outputs on the real batch and on the generated batch."""
        return self._targets(real_out, real=True), self._targets(fake_out, real=False)


def instance_noise_std(start_std: float, anneal_steps: int, step: int) -> float:
    """Std of the Gaussian noise added to D's inputs: start_std at step 0, linearly to 0 at anneal_steps."""
    if start_std <= 0 or anneal_steps <= 0:
        return 0.0
    return start_std * max(0.0, 1.0 - step / anneal_steps)


def with_instance_noise(images: torch.Tensor, std: float) -> torch.Tensor:
    """images + N(0, std^2) noise (instance noise on what D sees); the images themselves when std is 0."""
    return images + std * torch.randn_like(images) if std > 0 else images
