"""One forward pass with hooks: which layer feeds which, in the order they ran.

The static checks need the data flow of G and D, not their attribute order: a ResNet block's
shortcut conv runs after the block's last conv but does not consume its output. Every atomic
module (no children other than parametrizations) becomes a node; an edge A -> B means B read a
tensor that A produced (in-place activations take over the tensor they modify). Tensors made by
functional code inside a custom forward have no producer, so they end a chain: the checks built on
this can miss a problem, never invent one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn as nn

LINEAR = (
    nn.Linear,
    nn.Bilinear,
    nn.Conv1d,
    nn.Conv2d,
    nn.Conv3d,
    nn.ConvTranspose1d,
    nn.ConvTranspose2d,
    nn.ConvTranspose3d,
)
# Layers that are linear in their input (per batch): they carry a chain from one linear layer to the next.
PASS = (
    nn.Identity, nn.Flatten, nn.Unflatten, nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d,
    nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d, nn.ZeroPad2d, nn.ConstantPad2d, nn.ReflectionPad2d,
    nn.ReplicationPad2d, nn.Upsample, nn.AvgPool1d, nn.AvgPool2d, nn.AdaptiveAvgPool2d, nn.PixelShuffle,
    nn.PixelUnshuffle,
)  # fmt: skip
RESHAPE = (nn.Identity, nn.Flatten, nn.Unflatten)
SATURATING = {nn.Sigmoid: 4.0, nn.Tanh: 2.0}  # |input| beyond which the slope is under ~2% of its peak


@dataclass
class Node:
    """One call of an atomic module during the traced forward pass."""

    name: str
    module: nn.Module
    consumers: list[int] = field(default_factory=list)
    saturated: float | None = None  # sigmoid/tanh: fraction of inputs in the flat tails

    @property
    def linear(self) -> bool:
        return isinstance(self.module, LINEAR)

    @property
    def passes(self) -> bool:
        return isinstance(self.module, PASS)


@dataclass
class Trace:
    nodes: list[Node]
    output: torch.Tensor

    def last_layer(self) -> Node | None:
        """The last node that ran, skipping trailing reshapes (Flatten, Unflatten, Identity)."""
        for node in reversed(self.nodes):
            if not isinstance(node.module, RESHAPE):
                return node
        return None

    def linear_nodes(self) -> list[int]:
        return [i for i, n in enumerate(self.nodes) if n.linear]

    def downstream(self, index: int) -> tuple[set[int], set[int]]:
        """(pass-through nodes on the way, first non-pass nodes) reached from a node's output."""
        passed, ends, todo = set(), set(), list(self.nodes[index].consumers)
        while todo:
            i = todo.pop()
            if i in passed or i in ends:
                continue
            if self.nodes[i].passes:
                passed.add(i)
                todo.extend(self.nodes[i].consumers)
            else:
                ends.add(i)
        return passed, ends


def _atomic_modules(model: nn.Module) -> list[tuple[str, nn.Module]]:
    found = []
    for name, m in model.named_modules():
        if "parametrizations" in name.split("."):
            continue  # spectral norm's own modules act on weights, not on activations
        if not any(child != "parametrizations" for child, _ in m.named_children()):
            found.append((name.removeprefix("net.") or type(m).__name__, m))
    return found


def _tensors(value) -> list[torch.Tensor]:
    if isinstance(value, torch.Tensor):
        return [value]
    if isinstance(value, (tuple, list)):
        return [t for v in value for t in _tensors(v)]
    return []


@torch.no_grad()
def trace(model: nn.Module, example: torch.Tensor) -> Trace:
    """Run model(example) in eval mode (no state changes) and record the data flow."""
    nodes: list[Node] = []
    producer: dict[int, int] = {}
    alive: list[torch.Tensor] = []  # keeps ids unique while tracing

    def hook(name: str):
        def record(module, inputs, output):
            index = len(nodes)
            node = Node(name, module)
            for t in _tensors(inputs):
                if id(t) in producer and index not in nodes[producer[id(t)]].consumers:
                    nodes[producer[id(t)]].consumers.append(index)
            if type(module) in SATURATING and _tensors(inputs):
                x = _tensors(inputs)[0].float()
                node.saturated = float((x.abs() > SATURATING[type(module)]).float().mean())
            nodes.append(node)
            for t in _tensors(output):
                producer[id(t)] = index
                alive.append(t)

        return record

    handles = [m.register_forward_hook(hook(name)) for name, m in _atomic_modules(model)]
    was_training = model.training
    model.eval()
    try:
        output = model(example)
    finally:
        model.train(was_training)
        for h in handles:
            h.remove()
    return Trace(nodes, output)
