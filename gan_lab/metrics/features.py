"""Feature extractors for FID, KID and Inception Score: the library's Inception-v3, or any nn.Module.

`metrics.features=inception` uses torchmetrics' Inception-v3 (torch-fidelity's port of the TF FID
network), whose weights that library downloads on first use and caches; offline, a local copy is
passed with `metrics.inception_weights=<file>`. `metrics.features=<package.module.Class>` makes any
nn.Module the feature network: it is built with no arguments and called on uint8 N x 3 x H x W
images (grey images repeated to 3 channels), returning N x D features. RandomConvFeatures below is
such a module: weights-free, for offline use and tests.
"""

from __future__ import annotations

import contextlib
import importlib
import io
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

from gan_lab.errors import UserError

INCEPTION_URL = (
    "https://github.com/toshas/torch-fidelity/releases/download/v0.2.0/weights-inception-2015-12-05-6726825d.pth"
)
INCEPTION_FILE = INCEPTION_URL.rsplit("/", 1)[1]


def as_rgb(images: torch.Tensor) -> torch.Tensor:
    """uint8 N x 1 x H x W -> N x 3 x H x W (grey repeated); 3-channel images unchanged."""
    return images.expand(-1, 3, -1, -1) if images.shape[1] == 1 else images


class FeatureExtractor:
    """A feature network on a device: features (N x D) and, for Inception, class logits (N x 1008)."""

    def __init__(self, net: nn.Module, name: str, device: torch.device, inception: bool = False):
        self.net, self.name, self.device, self.inception = net.to(device).eval(), name, device, inception

    @torch.no_grad()
    def __call__(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """uint8 N x C x H x W -> (features, logits or None), float64 on the CPU."""
        out = self.net(as_rgb(images).to(self.device))
        if self.inception:
            # torch-fidelity's "logits_unbiased" (what its Inception Score uses): the fc layer without bias
            logits = out.mm(self.net.fc.weight.T)
            return out.double().cpu(), logits.double().cpu()
        if not isinstance(out, torch.Tensor) or out.dim() != 2 or len(out) != len(images):
            shape = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
            raise UserError(
                f"metrics.features={self.name} returned {shape} for {len(images)} images; it must return N x D"
            )
        return out.double().cpu(), None


def inception_cache_file() -> Path:
    """Where torch.hub (used by torch-fidelity) caches the Inception weights after the first download."""
    return Path(torch.hub.get_dir()) / "checkpoints" / INCEPTION_FILE


def inception(weights: Path | None, device: torch.device) -> FeatureExtractor:
    """torchmetrics' Inception-v3 (2048 pool features and logits); one line on why it could not be built."""
    from torchmetrics.image.fid import NoTrainInceptionV3

    if weights is not None:
        _check_weights_file(weights)
    elif not inception_cache_file().is_file():
        print(f"fetching the Inception-v3 weights (91 MB, once) into {inception_cache_file().parent}", flush=True)
    quiet = io.StringIO()  # torch.hub prints its progress here; a failure is reported in one line below
    try:
        with contextlib.redirect_stderr(quiet):
            net = NoTrainInceptionV3(
                name="inception-v3-compat",
                features_list=["2048"],
                feature_extractor_weights_path=str(weights) if weights is not None else None,
            )
    except OSError as error:  # URLError, HTTPError, timeouts, a read-only cache: all OSErrors
        reason = getattr(error, "reason", None) or error.strerror or error
        raise UserError(
            f"evaluate needs the Inception-v3 FID weights ({INCEPTION_FILE}) and could not fetch them ({reason}); "
            f"download {INCEPTION_URL} elsewhere and pass metrics.inception_weights=<file> (or put it in "
            f"{inception_cache_file().parent}/), or use metrics.features=<package.module.Class> for another "
            f"feature network, e.g. metrics.features=gan_lab.metrics.features.RandomConvFeatures"
        ) from None
    return FeatureExtractor(net, "inception", device, inception=True)


def _check_weights_file(weights: Path) -> None:
    """The weights file holds tensors only (torch.load weights_only=True) before the library loads it."""
    if not weights.is_file():
        raise UserError(f"metrics.inception_weights={weights} does not exist; give the file {INCEPTION_FILE}")
    try:
        state = torch.load(weights, map_location="cpu", weights_only=True)
    except Exception as error:  # unpickling refusals, truncated or non-torch files
        reason = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise UserError(f"metrics.inception_weights={weights} is not a tensor-only weights file: {reason}") from None
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise UserError(f"metrics.inception_weights={weights} is not a state dict of tensors ({INCEPTION_FILE})")


def custom(dotted: str, device: torch.device) -> FeatureExtractor:
    """An nn.Module class (or factory) by its python path, built with no arguments."""
    module_name, _, attr = dotted.rpartition(".")
    if not module_name:
        raise UserError(f"metrics.features={dotted} must be inception or a python path like package.module.Class")
    try:
        factory = getattr(importlib.import_module(module_name), attr)
    except ImportError as error:
        raise UserError(f"metrics.features={dotted}: cannot import {module_name} ({error})") from None
    except AttributeError:
        raise UserError(f"metrics.features={dotted}: {module_name} has no {attr}") from None
    try:
        net = factory()
    except Exception as error:  # the user's constructor: any failure is reported in one line
        reason = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise UserError(f"metrics.features={dotted} could not be built with no arguments: {reason}") from None
    if not isinstance(net, nn.Module):
        raise UserError(f"metrics.features={dotted} built a {type(net).__name__}, not a torch.nn.Module")
    return FeatureExtractor(net, dotted, device)


def build_extractor(features: str, weights: Path | None, device: torch.device) -> FeatureExtractor:
    """metrics.features: 'inception' or a python path of an nn.Module."""
    if features == "inception":
        return inception(weights, device)
    return custom(features, device)


class RandomConvFeatures(nn.Module):
    """A fixed, randomly initialised conv net (seed 0) as a weights-free feature extractor.

    uint8 N x 3 x H x W -> resized to 64 x 64 -> 4 conv + ReLU stages -> mean and std pooling:
    N x 256 features. Its numbers are comparable only with other numbers from this network
    (not with published Inception FIDs), but they order real vs real below real vs fake.
    """

    num_features = 256

    def __init__(self, seed: int = 0):
        super().__init__()
        generator = torch.Generator().manual_seed(seed)
        widths = [3, 32, 64, 128, 128]
        self.convs = nn.ModuleList(nn.Conv2d(a, b, 3, stride=2, padding=1) for a, b in zip(widths, widths[1:]))
        for conv in self.convs:
            fan_in = conv.in_channels * 9
            conv.weight.data = torch.randn(conv.weight.shape, generator=generator) * (2.0 / fan_in) ** 0.5
            conv.bias.data.zero_()
        self.requires_grad_(False)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        x = images.float().div(127.5).sub(1.0)
        x = F.interpolate(x, size=(64, 64), mode="bilinear", align_corners=False, antialias=True)
        for conv in self.convs:
            x = F.relu(conv(x))  # 32 x 32, 16 x 16, 8 x 8, 4 x 4
        return torch.cat([x.mean(dim=(2, 3)), x.std(dim=(2, 3))], dim=1)  # N x 256
