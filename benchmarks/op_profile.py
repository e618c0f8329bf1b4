"""Where a loop's CPU step time goes, by kind of operator (`benchmarks.train_speed --profile`).

Each operator's self CPU time (torch.profiler) is put under one kind: convolutions and matmuls,
BatchNorm, activations, the optimiser (everything inside `Optimizer.step`), data (inside the
DataLoader's or gan-lab's data range), or other (loss, copies, Python in the step). From gan-lab's
convolution time and the reference's step time follows the ratio gan-lab could reach if everything
but its convolutions and matmuls cost nothing: a target above that ceiling needs faster convolutions,
not a leaner step.
"""

from __future__ import annotations

from collections import defaultdict

KINDS = ("convolution/matmul", "batchnorm", "activations", "optimizer", "data", "other")
MATMULS = {"aten::mm", "aten::addmm", "aten::bmm", "aten::baddbmm", "aten::matmul", "aten::linear"}
ACTIVATIONS = ("relu", "threshold", "tanh", "sigmoid", "elu", "gelu", "silu")


def kind_of_range(name: str) -> str | None:
    """The kind every operator inside this profiler range counts as, or None for a range that says nothing."""
    if name.startswith(("Optimizer.step", "Optimizer.zero_grad")):
        return "optimizer"
    if name.startswith("enumerate(DataLoader)") or name == "gan_lab/data":
        return "data"
    return None


def kind_of_operator(name: str) -> str:
    """The kind of one operator by its name."""
    if "conv" in name or name in MATMULS:
        return "convolution/matmul"
    if "batch_norm" in name:
        return "batchnorm"
    if any(word in name for word in ACTIVATIONS) and "binary_cross_entropy" not in name:
        return "activations"
    return "other"


def kind_of_event(event) -> str:
    """An event's kind: that of the innermost range around it that names one, else its own operator's."""
    parent = event
    while parent is not None:
        kind = kind_of_range(parent.name)
        if kind is not None:
            return kind
        parent = parent.cpu_parent
    return kind_of_operator(event.name)


def ms_per_step_by_kind(loop, steps: int) -> dict[str, float]:
    """Self CPU milliseconds per step of each kind over `steps` profiled steps of `loop` (CPU only)."""
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(steps):
            loop.step()
    totals = defaultdict(float)
    for event in prof.events():
        totals[kind_of_event(event)] += event.self_cpu_time_total / 1e3 / steps
    return {kind: totals.get(kind, 0.0) for kind in KINDS}


def convolution_ceiling(reference_ms_per_step: float, ours: dict[str, float]) -> float:
    """The ratio gan-lab would reach if all its time outside convolutions and matmuls were zero."""
    return reference_ms_per_step / ours["convolution/matmul"]


def profile_lines(ours: dict[str, float], reference: dict[str, float], reference_ms_per_step: float) -> list[str]:
    """The printed table: ms per step of each kind in both loops, then the ceiling."""
    lines = [f"  {'self CPU ms/step':<20}{'gan-lab':>10}{'reference':>11}"]
    for kind in KINDS:
        lines.append(f"  {kind:<20}{ours[kind]:10.1f}{reference[kind]:11.1f}")
    lines.append(f"  {'total':<20}{sum(ours.values()):10.1f}{sum(reference.values()):11.1f}")
    ceiling = convolution_ceiling(reference_ms_per_step, ours)
    lines.append(f"  ceiling    {ceiling:9.2f}x  (the ratio if gan-lab's time outside convolutions/matmuls were zero)")
    return lines
