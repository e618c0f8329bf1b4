"""`gan-lab compare <sweep dir | run dirs...>`: a ranked table and compare.png, one labelled row per run.

Runs are ranked by sample quality (FID, else KID: what every sweep job scores at its end, or `gan-lab
evaluate`), and the output names the feature network those numbers come from; a loss is a ranking
only when asked for (--by loss_G) or when no run has a quality metric. Each row of the picture shows
the run's name and numbers, its last sample grid and small loss curves, so "which kernel size /
filter count worked" is answered by looking. Reads only run directories (job.json, summary.json,
diagnoses.json, metrics.json, samples/, event files).
"""

from __future__ import annotations

import argparse
import textwrap
from pathlib import Path

from gan_lab.errors import UserError, report_and_exit
from gan_lab.runs.layout import (
    FINISHED,
    compare_picture,
    is_run_dir,
    is_sweep_dir,
    job_dirs,
    sample_grids,
    saved_overrides,
)
from gan_lab.sweeps.index import FINAL, run_row
from gan_lab.sweeps.job_names import job_name
from gan_lab.sweeps.ranking import default_by, descending, features_of, value_of
from gan_lab.sweeps.ranking import rank as rank_by

ROW_INCHES, HEADER_INCHES, FOOTER_INCHES, WIDTH_INCHES, DPI = 2.2, 0.5, 0.35, 10.0, 100


def figure_size(rows: int) -> tuple[int, int]:
    """compare.png's size in pixels for this many runs."""
    return int(WIDTH_INCHES * DPI), round((HEADER_INCHES + ROW_INCHES * rows + FOOTER_INCHES) * DPI)


def collect_runs(paths: list[str]) -> list[Path]:
    """Run directories from sweep roots (their jobs, in job order) and single run directories."""
    runs: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            raise UserError(
                f"{path} does not exist; give a sweep directory (outputs/multirun/<date>/<time>) or run directories"
            )
        if is_run_dir(path):
            runs.append(path)
        elif is_sweep_dir(path):
            runs.extend(job_dirs(path))
        else:
            raise UserError(
                f"{path} is neither a run directory (.hydra/config.yaml) nor a sweep directory (job folders)"
            )
    if not runs:
        raise UserError(f"no runs in {', '.join(paths)}: the sweep has no job directories yet")
    return runs


def _overrides(run_dir: Path) -> dict[str, str]:
    items = saved_overrides(run_dir)
    return dict(item.lstrip("+~").split("=", 1) for item in items if "=" in item)


def label_runs(rows: list[dict]) -> None:
    """Name runs that are not sweep jobs by the overrides that differ between the compared runs."""
    unnamed = [row for row in rows if row["job"] is None]
    if not unnamed:
        return
    overrides = {row["dir"]: _overrides(Path(row["dir"])) for row in unnamed}
    keys = list(dict.fromkeys(k for o in overrides.values() for k in o))
    differing = [k for k in keys if len({o.get(k) for o in overrides.values()}) > 1]
    for row in unnamed:
        params = {k: overrides[row["dir"]].get(k, "default") for k in differing}
        row["params"], row["name"] = params, job_name(params) if params else Path(row["dir"]).name


RANKABLE = {"steps", *FINAL, "img_per_s", "wall_time_s", "job_time_s"}


def rank(rows: list[dict], by: str, order: str | None) -> list[dict]:
    """Finished runs by `by` (order asc/desc, default by what is better), then the others."""
    return rank_by(rows, by, order, RANKABLE)


def _fmt(value, digits: int = 3) -> str:
    if value is None:
        return "-"
    return f"{value:,.{digits}f}" if isinstance(value, float) else str(value)


# quality metric -> (column header, digits), shown when some run has it
SCORES = {"fid": ("FID", 2), "kid": ("KID", 4), "precision": ("prec", 3), "recall": ("recall", 3)}
# column header -> (row key, digits)
COLUMNS = {
    "loss D": ("loss_D", 3),
    "loss G": ("loss_G", 3),
    "D(x)": ("prob_D_real", 3),
    "D(G(z))": ("prob_D_fake", 3),
    "img/s": ("img_per_s", 0),
    "wall s": ("wall_time_s", 1),
}


def table(rows: list[dict], by: str) -> str:
    """The ranked table as aligned text: quality metrics, then --by unless already shown, then the losses."""
    scores = {k: v for k, v in SCORES.items() if any(k in row["metrics"] for row in rows)}
    extra = [] if by in {key for key, _ in COLUMNS.values()} | set(scores) else [by]
    head = ["#", "run", "status", *(h for h, _ in scores.values()), *extra, *COLUMNS, "diagnoses / error"]
    lines = [head]
    for place, row in enumerate(rows, 1):
        note = row["error"] if row["status"] not in FINISHED else "; ".join(row["diagnoses"])
        quality = [_fmt(row["metrics"].get(k), digits) for k, (_, digits) in scores.items()]
        by_value = [_fmt(value_of(row, by))] if extra else []
        numbers = [_fmt(row[key], digits) for key, digits in COLUMNS.values()]
        lines.append([str(place), row["name"], row["status"], *quality, *by_value, *numbers, note or ""])
    widths = [max(len(line[i]) for line in lines) for i in range(len(head) - 1)]
    return "\n".join(("  ".join(c.ljust(w) for c, w in zip(line, widths)) + "  " + line[-1]).rstrip() for line in lines)


def last_grid(run_dir: Path) -> Path | None:
    """The run's last sample grid PNG, or None."""
    grids = sample_grids(run_dir)
    return grids[-1] if grids else None


def draw(rows: list[dict], title: str, out: Path) -> Path:
    """compare.png: per run a label, the last sample grid and the loss curves, in ranked order."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from PIL import Image

    from gan_lab.runs.layout import read_scalars

    width, height = figure_size(len(rows))
    inches = height / DPI
    fig = plt.figure(figsize=(width / DPI, inches), dpi=DPI)
    fig.text(0.01, 1 - 0.5 * HEADER_INCHES / inches, title, fontsize=11, weight="bold", va="center")
    grid = fig.add_gridspec(
        len(rows),
        3,
        width_ratios=[1.0, 1.0, 1.35],
        left=0.01,
        right=0.985,
        bottom=FOOTER_INCHES / inches,
        top=1 - HEADER_INCHES / inches,
        hspace=0.3,
        wspace=0.1,
    )
    for i, row in enumerate(rows):
        run_dir = Path(row["dir"])
        ok = row["status"] in FINISHED
        label = fig.add_subplot(grid[i, 0])
        label.axis("off")
        lines = [f"#{i + 1}  {row['name']}", f"{row['status']}" + (f", {row['steps']} steps" if row["steps"] else "")]
        scores = row["metrics"]
        if "fid" in scores:
            lines.append(f"FID {_fmt(scores['fid'], 2)}  KID {_fmt(scores.get('kid'), 4)}")
        if "precision" in scores:
            lines.append(f"precision {_fmt(scores['precision'], 2)}  recall {_fmt(scores.get('recall'), 2)}")
        if row["loss_D"] is not None:
            lines.append(f"loss D {_fmt(row['loss_D'])}  G {_fmt(row['loss_G'])}")
            lines.append(f"D(x) {_fmt(row['prob_D_real'])}  D(G(z)) {_fmt(row['prob_D_fake'])}")
        if row["img_per_s"] is not None:
            lines.append(f"{_fmt(row['img_per_s'], 0)} img/s, {_fmt(row['wall_time_s'], 1)} s")
        extra = row["error"] if not ok else "; ".join(row["diagnoses"])
        if extra:
            lines += textwrap.wrap(extra, 38)[:3]
        label.text(
            0,
            0.95,
            "\n".join(lines),
            va="top",
            fontsize=8.5,
            family="monospace",
            color="black" if ok else "firebrick",
            transform=label.transAxes,
        )

        samples = fig.add_subplot(grid[i, 1])
        samples.axis("off")
        png = last_grid(run_dir)
        if png is not None:
            samples.imshow(Image.open(png).convert("RGB"), interpolation="nearest")
        else:
            samples.text(0.5, 0.5, "no samples", ha="center", va="center", color="gray", transform=samples.transAxes)

        curves = fig.add_subplot(grid[i, 2])
        scalars = read_scalars(run_dir) if any(run_dir.glob("events.out.tfevents.*")) else {}
        for tag, color in (("loss/D", "tab:blue"), ("loss/G", "tab:orange")):
            points = scalars.get(tag, [])
            if points:
                marker = "o" if len(points) < 5 else None  # a short run has a point or two, not a line
                curves.plot(
                    [s for s, _ in points], [v for _, v in points], color=color, lw=1.2, marker=marker, ms=3, label=tag
                )
        if scalars.get("loss/D") or scalars.get("loss/G"):
            curves.legend(fontsize=7, loc="best", frameon=False)
            curves.tick_params(labelsize=7)
            curves.set_xlabel("step", fontsize=7, labelpad=1)
        else:
            curves.axis("off")
            curves.text(0.5, 0.5, "no loss curves", ha="center", va="center", color="gray", transform=curves.transAxes)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=DPI)
    plt.close(fig)
    return out


def main(args: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="gan-lab compare", description=__doc__.split(":", 1)[1].strip().splitlines()[0]
    )
    parser.add_argument("paths", nargs="+", help="a sweep directory, or run directories (or several sweeps)")
    parser.add_argument(
        "--by",
        help="rank by this column: fid, kid, precision, recall, loss_G, loss_D, prob_D_fake, img_per_s, "
        "wall_time_s, another metric, or a swept key (default: fid, else kid, when the runs have it; else loss_G)",
    )
    parser.add_argument(
        "--order", choices=["asc", "desc"],
        help="default: desc for precision, recall, img_per_s and prob_D_fake, else asc",
    )
    parser.add_argument(
        "--out",
        type=Path,
        help="where to write the picture (default: <sweep dir>/compare.png, or ./compare.png for run directories)",
    )
    opts = parser.parse_args(args)
    try:
        runs = collect_runs(opts.paths)
        rows = [run_row(run) for run in runs]
        label_runs(rows)
        by = opts.by or default_by(rows)
        rows = rank(rows, by, opts.order)
    except UserError as error:
        report_and_exit(error)
    single_sweep = len(opts.paths) == 1 and not is_run_dir(Path(opts.paths[0]))
    out = opts.out or (compare_picture(Path(opts.paths[0])) if single_sweep else compare_picture(Path(".")))
    features = features_of(rows)
    on = f" on {features} features" if features else ""
    title = f"{opts.paths[0] if single_sweep else f'{len(rows)} runs'}: ranked by {by}{on if by in SCORES else ''}"
    order = "highest" if descending(by, opts.order) else "lowest"
    print(f"ranked by {by}, {order} first; runs that did not finish last" + (f"\nfeatures: {features}" if features else ""))
    if not features and not opts.by:
        print("no run has a quality metric (metrics.sweep_samples=0?): ranked by a loss, which says little about images")
    print()
    print(table(rows, by))
    draw(rows, title, out)
    print(f"\nwrote {out} ({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return 0
