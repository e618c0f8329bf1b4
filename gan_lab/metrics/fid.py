"""FID, KID and Inception Score, computed by torchmetrics from one pass of a feature network.

The feature network (metrics/features.py) runs once per image; torchmetrics' metrics receive those
features through a pass-through module (they accept any nn.Module as their `feature`), so FID, KID
and IS share one extraction and the real images' features are kept across evaluations.
"""

from __future__ import annotations

import warnings
from typing import Iterable

import torch
import torch.nn as nn

from gan_lab.metrics.features import FeatureExtractor


class _Given(nn.Module):
    """Hands torchmetrics features that were computed already (by FeatureExtractor)."""

    def __init__(self, num_features: int):
        super().__init__()
        self.num_features = num_features

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return features


class SampleQuality:
    """Real images' features once, then FID / KID (and IS when the network has class logits) of fakes."""

    def __init__(self, extractor: FeatureExtractor, kid_subset_size: int = 1000, kid_subsets: int = 100):
        self.extractor, self.kid_subset_size, self.kid_subsets = extractor, kid_subset_size, kid_subsets
        self.fid = self.kid = None
        self.num_real = 0

    def _build(self, num_features: int) -> None:
        from torchmetrics.image.fid import FrechetInceptionDistance
        from torchmetrics.image.kid import KernelInceptionDistance

        self.fid = FrechetInceptionDistance(feature=_Given(num_features), reset_real_features=False)
        with warnings.catch_warnings():  # "KID keeps all features in memory": expected, N x D floats
            warnings.simplefilter("ignore", UserWarning)
            self.kid = KernelInceptionDistance(
                feature=_Given(num_features), subsets=self.kid_subsets, subset_size=self.kid_subset_size,
                reset_real_features=False,
            )  # fmt: skip

    def add_real(self, batches: Iterable[torch.Tensor]) -> None:
        """uint8 N x C x H x W batches of real images (their features are kept)."""
        for images in batches:
            features, _ = self.extractor(images)
            if self.fid is None:
                self._build(features.shape[1])
            self.fid.update(features, real=True)
            self.kid.update(features, real=True)
            self.num_real += len(images)

    def score(self, batches: Iterable[torch.Tensor], seed: int = 0, with_is: bool = True) -> dict[str, float]:
        """fid, kid, kid_std (and inception_score, inception_score_std) of uint8 generated batches.

        The Inception Score needs class logits (metrics.features=inception) and with_is (RGB images).

        KID's subsets and IS's splits are drawn from a generator seeded with `seed`: same inputs, same numbers.
        """
        from torchmetrics.image.inception import InceptionScore

        if self.fid is None:
            raise ValueError("add_real() first")
        self.fid.reset()
        self.kid.reset()
        inception_score = None
        num_fake = 0
        for images in batches:
            features, logits = self.extractor(images)
            self.fid.update(features, real=False)
            self.kid.update(features, real=False)
            if logits is not None and with_is:
                if inception_score is None:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore", UserWarning)
                        inception_score = InceptionScore(feature=_Given(logits.shape[1]), splits=10)
                inception_score.update(logits)
            num_fake += len(images)
        if min(num_fake, self.num_real) < 2:
            raise ValueError(f"FID needs at least 2 real and 2 generated images (got {self.num_real} and {num_fake})")
        self.kid.subset_size = min(self.kid_subset_size, num_fake, self.num_real)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            kid, kid_std = self.kid.compute()
            out = {"fid": float(self.fid.compute()), "kid": float(kid), "kid_std": float(kid_std)}
            if inception_score is not None and num_fake >= 10:
                mean, std = inception_score.compute()
                out.update(inception_score=float(mean), inception_score_std=float(std))
        return out
