"""doctor.png: losses, D's outputs, bottom vs top gradient norms and sample scores, firing points marked.

One row of four panels per run; a sweep's picture stacks one row per job. Drawn with matplotlib's
object API (no pyplot state), imported only by `gan-lab doctor`.
"""

from __future__ import annotations

import math
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from gan_lab.doctor.detectors import CHECKERBOARD, DETECTORS, DIVERSITY

TITLES = {d.name: d.title for d in DETECTORS}
PANELS = ("losses", "D's outputs", "gradient norms", "samples vs real")


def _series(scalars: dict, tag: str) -> tuple[list[int], list[float]]:
    points = [(s, v) for s, v in scalars.get(tag, []) if math.isfinite(v)]
    return [s for s, _ in points], [v for _, v in points]


def _bottom_top(scalars: dict, net: str) -> list[str]:
    tags = sorted(t for t in scalars if t.startswith(f"grad_norm/{net}/"))
    return [tags[0], tags[-1]] if len(tags) > 1 else tags


def _plot(ax, scalars: dict, tag: str, label: str, **style) -> None:
    steps, values = _series(scalars, tag)
    if steps:
        ax.plot(steps, values, label=label, linewidth=1.2, **style)


def draw_run(axes, scalars: dict, diag: dict, first_row: bool = True) -> None:
    """Fill four axes with one run's curves and mark where each detector fired (red) or cleared (grey)."""
    losses, probs, norms, samples = axes
    _plot(losses, scalars, "loss/D", "loss D", color="tab:blue")
    _plot(losses, scalars, "loss/G", "loss G", color="tab:orange")
    if max((abs(v) for tag in ("loss/D", "loss/G") for v in _series(scalars, tag)[1]), default=0) > 1e3:
        losses.set_yscale("symlog")  # a diverging run: keep the sane part readable
    _plot(probs, scalars, "prob/D_real", "D(x)", color="tab:green")
    _plot(probs, scalars, "prob/D_fake", "D(G(z))", color="tab:red")
    probs.set_ylim(-0.02, 1.02)
    for net, color in (("G", "tab:purple"), ("D", "tab:cyan")):
        for tag, style in zip(_bottom_top(scalars, net), ("--", "-")):
            where = "bottom" if style == "--" else "top"
            _plot(norms, scalars, tag, f"{net} {where} ({tag.rsplit('/', 1)[1]})", color=color, linestyle=style)
    values = [v for line in norms.get_lines() for v in line.get_ydata()]
    positive = [v for v in values if v > 0]
    if len(positive) == len(values) > 0:
        norms.set_yscale("log")
    elif positive:  # a starving G logs norms of exactly 0: symlog keeps them on the plot, log would drop them
        norms.set_yscale("symlog", linthresh=min(positive))
    _plot(samples, scalars, DIVERSITY, "diversity", color="tab:brown", marker="o", markersize=3)
    _plot(samples, scalars, CHECKERBOARD, "checkerboard", color="tab:gray", marker="s", markersize=3)
    thresholds = diag.get("thresholds", {})
    limits = ((thresholds.get("mode_collapse", {}).get("fraction"), "tab:brown"),
              (thresholds.get("checkerboard", {}).get("score"), "tab:gray"))  # fmt: skip
    for (value, color), label in zip(limits, ("collapse below", "checkerboard above")):
        if value is not None and samples.get_lines():
            samples.axhline(value, color=color, linestyle=":", linewidth=1, label=label)
    if samples.get_lines():
        samples.set_yscale("log")
        if thresholds.get("sample_warmup"):  # grids before this step are not judged
            samples.axvspan(0, thresholds["sample_warmup"], color="0.9", zorder=0, label="warm-up")
    labels_at: dict[int, int] = {}  # step -> labels already there, so that labels side by side do not overlap
    for event in diag.get("events", []):
        fired = event["state"] == "fired"
        for ax in axes:
            ax.axvline(
                event["step"], color="red" if fired else "0.6", linestyle="-" if fired else "--", linewidth=1, alpha=0.7
            )
        if fired:
            title = TITLES.get(event["check"], event["check"])
            shift = 8 * labels_at.get(event["step"], 0)
            labels_at[event["step"]] = labels_at.get(event["step"], 0) + 1
            losses.annotate(title, (event["step"], 1), xycoords=("data", "axes fraction"), xytext=(-2 - shift, -2),
                            textcoords="offset points", rotation=90, va="top", ha="right", fontsize=7,
                            color="red")  # fmt: skip
    for ax, title in zip(axes, PANELS):
        if first_row:
            ax.set_title(title, fontsize=10)
        ax.grid(alpha=0.3)
        ax.tick_params(labelsize=7)
        if ax.get_lines():
            ax.legend(fontsize=6, loc="best")


def _save(fig: Figure, path: Path, dpi: int) -> Path:
    FigureCanvasAgg(fig)
    fig.savefig(path, dpi=dpi)
    return path


def write_run_picture(path: Path, scalars: dict, diag: dict, title: str | None = None) -> Path:
    """One run's doctor.png: four panels side by side."""
    fig = Figure(figsize=(16, 3.8), layout="constrained")
    axes = fig.subplots(1, 4)
    draw_run(axes, scalars, diag)
    fig.suptitle(title or str(path.parent.name), fontsize=11)
    for ax in axes:
        ax.set_xlabel("step", fontsize=8)
    return _save(fig, path, dpi=110)


def write_sweep_picture(path: Path, jobs: list[tuple[str, dict, dict]]) -> Path:
    """A sweep's doctor.png: one row of four panels per job (name, scalars, diagnoses)."""
    from gan_lab.doctor.report import overall, verdicts

    fig = Figure(figsize=(16, 2.6 * len(jobs) + 0.6), layout="constrained")
    rows = fig.subplots(len(jobs), 4, squeeze=False)
    for row, (name, scalars, diag) in zip(rows, jobs):
        draw_run(row, scalars, diag, first_row=row is rows[0])
        static, live = verdicts(diag)
        row[0].set_ylabel(f"{name}\n{overall(static + live)}", fontsize=8)
    for ax in rows[-1]:
        ax.set_xlabel("step", fontsize=8)
    return _save(fig, path, dpi=80)
