"""Checks on G and D before training: the known failure patterns that need no data.

Each finding names the layers, says what goes wrong and how to fix it. Most checks read the
data flow of one forward pass (see trace.py), so they work on any G and D, not only ours.
"""

from __future__ import annotations

import logging
import math
from dataclasses import asdict, dataclass

import torch
import torch.nn as nn

from gan_lab.doctor.trace import LINEAR, Trace, trace

log = logging.getLogger(__name__)

# A layer whose weights have this std or more, and give a unit input pre-activations of this std
# or more (std * sqrt(fan_in)), is far from every usual init: N(0, 0.02), Xavier, PyTorch's default.
BIG_WEIGHT_STD, BIG_GAIN = 0.3, 3.0
# Output ranges of G's last layer; the data are scaled to [-1, 1].
OUTPUT_RANGES = {nn.Sigmoid: "[0, 1]", nn.ReLU: "[0, inf)", nn.ReLU6: "[0, 6]", nn.Softplus: "(0, inf)"}
BATCHNORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)


@dataclass
class StaticFinding:
    """One problem found before training."""

    check: str
    net: str
    message: str

    def as_dict(self) -> dict:
        return asdict(self)


def kernel_stride_mismatches(model: nn.Module) -> list[str]:
    """Names of strided (transposed) convs whose kernel size is not divisible by their stride.

    Such layers overlap unevenly and print checkerboard patterns (Odena et al. 2016).
    """
    found = []
    for name, m in model.named_modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            for k, s in zip(m.kernel_size, m.stride):
                if s > 1 and k % s:
                    found.append(name.removeprefix("net."))
                    break
    return found


def _kernel_stride(G: nn.Module) -> list[StaticFinding]:
    """G's transposed convs only: D's strided convs overlap unevenly too, but that shows at most in the
    gradients G gets, and the checkerboard detector measures whether G's samples carry the pattern (a 3x3
    stride-2 D beside a resize-conv G trains without it)."""
    bad = kernel_stride_mismatches(G)
    if not bad:
        return []
    return [StaticFinding("kernel_stride", "G", f"{len(bad)} transposed convs of G ({', '.join(bad)}) have a kernel size "
                          "not divisible by their stride: expect checkerboard artifacts (use an even model.kernel_size, "
                          "or model.upsample=nearest)")]  # fmt: skip


def _linear_stacks(net: str, t: Trace) -> list[StaticFinding]:
    """Linear layers whose output reaches only other linear layers (through norms, reshapes, dropout)."""
    pairs = []
    for i in t.linear_nodes():
        _, ends = t.downstream(i)
        if ends and all(t.nodes[j].linear for j in ends):
            pairs.extend(f"{t.nodes[i].name} -> {t.nodes[j].name}" for j in sorted(ends))
    if not pairs:
        return []
    return [StaticFinding("linear_stack", net, f"{net} has no nonlinearity between {', '.join(pairs)}: stacked linear "
                          f"layers collapse to one linear map (put an activation between them, e.g. ReLU in G, "
                          f"LeakyReLU in D)")]  # fmt: skip


def _weight(m: nn.Module) -> torch.Tensor:
    return m.parametrizations.weight.original if hasattr(m, "parametrizations") else m.weight


def _init_scale(net: str, model: nn.Module, t: Trace) -> list[StaticFinding]:
    big = []
    for name, m in model.named_modules():
        if isinstance(m, LINEAR) and "parametrizations" not in name:
            w = _weight(m).detach().float()
            fan_in = (
                w.shape[0]
                if isinstance(m, (nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d))
                else w.shape[1]
            )
            fan_in *= math.prod(w.shape[2:])
            std = float(w.std()) if w.numel() > 1 else 0.0
            if std >= BIG_WEIGHT_STD and std * math.sqrt(fan_in) >= BIG_GAIN:
                big.append((name.removeprefix("net."), std, std * math.sqrt(fan_in)))
    if not big:
        return []
    layers = ", ".join(f"{name} (std {std:.2f}, x{gain:.0f} per layer)" for name, std, gain in big)
    saturated = [(n.name, n.saturated) for n in t.nodes if n.saturated is not None and n.saturated > 0.5]
    effect = (
        "; at init " + ", ".join(f"{name} is saturated for {s:.0%} of its inputs" for name, s in saturated)
        if saturated else ": activations blow up layer by layer and saturating units stop passing gradients"
    )  # fmt: skip
    return [StaticFinding("init_scale", net, f"{net}'s weights are far larger than any usual init: {layers}{effect} "
                          f"(use model.init=dcgan for N(0, 0.02) or xavier)")]  # fmt: skip


def _output_range(G_trace: Trace) -> list[StaticFinding]:
    last = G_trace.last_layer()
    if last is None or type(last.module) not in OUTPUT_RANGES:
        return []
    kind = type(last.module).__name__.lower()
    return [StaticFinding("output_range", "G", f"G ends in a {kind} ({last.name}) with outputs in "
                          f"{OUTPUT_RANGES[type(last.module)]}, but the data are scaled to [-1, 1]: G can never "
                          f"match them and D tells them apart by range alone (use model.g_output=tanh)")]  # fmt: skip


def _double_sigmoid(D_trace: Trace, loss: str) -> list[StaticFinding]:
    last = D_trace.last_layer()
    if last is None or not isinstance(last.module, nn.Sigmoid):
        return []
    return [StaticFinding("double_sigmoid", "D", f"D ends in a sigmoid ({last.name}) but loss={loss} expects raw "
                          f"logits and applies its own: a double sigmoid squeezes D's output into [0.5, 0.73] and "
                          f"flattens its gradients (remove D's sigmoid, e.g. model.d_output=none)")]  # fmt: skip


def _norm_placement(G_trace: Trace, D_trace: Trace) -> list[StaticFinding]:
    found = []
    g_linear = G_trace.linear_nodes()
    if g_linear:
        passed, _ = G_trace.downstream(g_linear[-1])
        bn = [G_trace.nodes[i].name for i in sorted(passed) if isinstance(G_trace.nodes[i].module, BATCHNORMS)]
        if bn:
            found.append(StaticFinding("norm_placement", "G", f"G normalises its output layer with BatchNorm "
                                       f"({', '.join(bn)}): DCGAN found this makes samples oscillate; keep "
                                       f"BatchNorm off G's output layer"))  # fmt: skip
    d_linear = D_trace.linear_nodes()
    if d_linear:
        first = d_linear[0]
        passed, _ = D_trace.downstream(first)
        before = [i for i in range(first) if isinstance(D_trace.nodes[i].module, BATCHNORMS)]
        bn = [
            D_trace.nodes[i].name
            for i in sorted(before + list(passed))
            if isinstance(D_trace.nodes[i].module, BATCHNORMS)
        ]
        if bn:
            found.append(StaticFinding("norm_placement", "D", f"D normalises its input layer with BatchNorm "
                                       f"({', '.join(bn)}): DCGAN found this makes training unstable; keep "
                                       f"BatchNorm off D's input layer"))  # fmt: skip
    return found


def _wgan_batchnorm(D: nn.Module, loss: str | None) -> list[StaticFinding]:
    if loss != "wgan_gp" or not any(isinstance(m, BATCHNORMS) for m in D.modules()):
        return []
    return [StaticFinding("wgan_batchnorm", "D", "loss=wgan_gp with BatchNorm in D: the gradient penalty assumes "
                          "each image's output depends on that image alone (model.norm_D=layer or none)")]  # fmt: skip


def static_findings(
    G: nn.Module, D: nn.Module, latent_dim: int | None = None, loss: str | None = None
) -> list[StaticFinding]:
    """Every static check on G and D; G is traced with 4 latent vectors and D with G's output."""
    latent_dim = latent_dim or G.latent_dim
    device = next(G.parameters()).device
    z = torch.randn(4, latent_dim, generator=torch.Generator().manual_seed(0)).to(device)  # leaves the global RNG alone
    G_trace = trace(G, z)
    D_trace = trace(D, G_trace.output.float().to(next(D.parameters()).device))
    return [
        *_wgan_batchnorm(D, loss),
        *_kernel_stride(G),
        *_output_range(G_trace),
        *_double_sigmoid(D_trace, loss or "bce"),
        *_linear_stacks("G", G_trace),
        *_linear_stacks("D", D_trace),
        *_init_scale("G", G, G_trace),
        *_init_scale("D", D, D_trace),
        *_norm_placement(G_trace, D_trace),
    ]


def warn_about_models(G: nn.Module, D: nn.Module, cfg=None) -> list[StaticFinding]:
    """Run the static checks and log one warning per finding; returns the findings."""
    findings = static_findings(
        G,
        D,
        latent_dim=cfg.model.latent_dim if cfg is not None else None,
        loss=cfg.loss.name if cfg is not None else None,
    )
    for f in findings:
        log.warning(f"doctor: warning: {f.message}")
    return findings
