"""Optimisers for G and D (`optim=<name>`), gradient clipping, and per-layer gradient norms."""

from __future__ import annotations

import functools

import torch
import torch.nn as nn
from omegaconf import DictConfig


def _optimizer(o: DictConfig, params, lr: float, betas, device: torch.device) -> torch.optim.Optimizer:
    # One fused kernel per update on CPU and CUDA (torch >= 2.4; on a 2-core CPU half the time of foreach Adam),
    # multi-tensor (foreach) updates elsewhere: never a per-parameter Python loop.
    fast = {"fused": True} if device.type in ("cpu", "cuda") else {"foreach": True}
    if o.name == "adam":
        return torch.optim.Adam(params, lr=lr, betas=tuple(betas), **fast)
    if o.name == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr, alpha=o.alpha, eps=o.eps, momentum=o.momentum, foreach=True)
    if o.name == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=o.momentum, **fast)
    raise ValueError(f"unknown optimiser {o.name!r}")


def build_optimizers(
    o: DictConfig, G: nn.Module, D: nn.Module, device: torch.device = torch.device("cpu")
) -> tuple[torch.optim.Optimizer, torch.optim.Optimizer]:
    """(optimiser of G, optimiser of D) with their own learning rates (and betas for Adam)."""
    betas = o.get("betas")
    opt_G = _optimizer(o, G.parameters(), o.lr_G, o.get("betas_G") or betas, device)
    opt_D = _optimizer(o, D.parameters(), o.lr_D, o.get("betas_D") or betas, device)
    return opt_G, opt_D


def load_optimizer_state(optimizer: torch.optim.Optimizer, state: dict) -> None:
    """optimizer.load_state_dict, keeping this optimiser's update kernel (fused or foreach, chosen for this
    device) and laying each per-parameter state tensor out like its parameter.

    load_state_dict brings back the saving run's kernel flags and keeps the saved strides, and a
    checkpoint may come from another device or memory layout (channels_last; contiguous under
    torch.compile on CUDA). Fused Adam and SGD walk a parameter, its gradient and its moments as flat
    arrays in memory order, so moments in another layout would scramble every update from then on.
    """
    kernels = [{key: group[key] for key in ("fused", "foreach") if key in group} for group in optimizer.param_groups]
    optimizer.load_state_dict(state)
    for group, kernel in zip(optimizer.param_groups, kernels):
        group.update(kernel)
    for p, values in optimizer.state.items():
        for key, value in values.items():
            if torch.is_tensor(value) and value.shape == p.shape and value.stride() != p.stride():
                values[key] = torch.empty_like(p, dtype=value.dtype).copy_(value)


def clip_gradients(model: nn.Module, clip_value: float | None, clip_norm: float | None) -> None:
    """Elementwise clipping (Keras' clipvalue) and/or global-norm clipping, both sync-free."""
    if clip_value:
        torch.nn.utils.clip_grad_value_(model.parameters(), clip_value, foreach=True)
    if clip_norm:
        torch.nn.utils.clip_grad_norm_(model.parameters(), clip_norm, foreach=True)


@functools.lru_cache(maxsize=32)
def _owner_index(owner: tuple[int, ...], device: torch.device) -> torch.Tensor:
    """The layer of each gradient as a device tensor, copied to the device once per layer structure."""
    return torch.tensor(owner, dtype=torch.long, device=device)


def layer_grad_norms(layers: list[tuple[str, list[nn.Parameter]]]) -> torch.Tensor:
    """L2 norm of the gradient of each layer (all its parameters together), as one device tensor."""
    grads, owner = [], []
    for index, (_, params) in enumerate(layers):
        for p in params:
            if p.grad is not None:
                grads.append(p.grad)
                owner.append(index)
    norms = torch.stack(torch._foreach_norm(grads)) if grads else torch.zeros(0)
    squared = torch.zeros(len(layers), device=norms.device).index_add_(
        0, _owner_index(tuple(owner), norms.device), norms.float() ** 2
    )
    return squared.sqrt()
