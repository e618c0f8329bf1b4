"""`gan-lab evaluate <run dir>`: FID, KID, k-NN precision and recall (and Inception Score for RGB) against
the run's dataset, plus the weights-free checkerboard and diversity ratios, into metrics.json and TensorBoard (`eval/*`).

FID/KID/IS come from torchmetrics (metrics/fid.py) on the features of metrics.features: the
library's Inception-v3 by default, or any nn.Module. Checkerboard and diversity need no weights and
are always reported; `metrics.classifier=true` adds the class histogram of the samples (mnist, cifar10).
"""

from __future__ import annotations

from pathlib import Path

from omegaconf import DictConfig

from gan_lab.commands.run_options import CHECKPOINT, DEVICE, open_run
from gan_lab.config.options import Option, entry_point, integer, path
from gan_lab.metrics import settings
from gan_lab.runs.layout import display_path

SUMMARY = (
    "Scores a run's checkpoint against its dataset: FID and KID (and Inception Score for RGB) computed by\n"
    "torchmetrics, k-NN precision and recall, the checkerboard and diversity ratios, optionally the class\n"
    "histogram of the samples.\n"
    "Writes metrics.json in the run directory and eval/* scalars to its TensorBoard."
)


def options() -> list[Option]:
    return [
        Option("n", integer(2), None, "generated images (shorthand for metrics.num_samples)"),
        Option("seed", integer(0), 0, "seed of the latent noise and of the real-image subset"),
        CHECKPOINT,
        DEVICE,
        Option("data_dir", path, None, "where MNIST / CIFAR-10 are (default: the run's paths.data_dir)"),
        *settings.metric_options(),
    ]


def data_dir_of(cfg: DictConfig, given: Path | None) -> Path:
    return given if given is not None else Path(str(cfg.paths.data_dir)).expanduser()


def report(results: dict) -> str:
    lines = []
    for key in ("fid", "kid", "precision", "recall", "inception_score", "checkerboard", "diversity", "classifier_accuracy"):
        if key in results:
            spread = results.get(f"{key}_std")
            lines.append(f"  {key:<20} {results[key]:.4g}" + (f" ± {spread:.2g}" if spread is not None else ""))
    if "class_histogram" in results:
        shares = ", ".join(f"{k} {v:.0%}" for k, v in results["class_histogram"].items())
        lines.append(f"  {'class_histogram':<20} {shares}")
    return "\n".join(lines)


def run(args: list[str]) -> int:
    opened = open_run("evaluate", args, options(), SUMMARY)
    if opened is None:
        return 0
    o, loaded = opened
    from gan_lab.metrics.class_metrics import class_metrics  # after the options: a refused one costs no torch import
    from gan_lab.metrics.features import build_extractor
    from gan_lab.runs.scoring import evaluation_record, score_samples, write_results

    given = {k: o[k] for k in o.given if k.startswith("metrics.")}
    if "n" in o.given:
        given["metrics.num_samples"] = o["n"]
    m = settings.resolve(loaded.cfg, given)
    data_dir = data_dir_of(loaded.cfg, o["data_dir"])
    extractor = build_extractor(m.features, Path(m.inception_weights) if m.inception_weights else None, loaded.device)

    results, fake, real = score_samples(loaded, m, extractor, data_dir, o["seed"])
    if m.classifier:
        results.update(class_metrics(loaded.cfg, fake, m, data_dir, o["seed"], loaded.device))

    record = evaluation_record(loaded, o["seed"], fake, real, extractor.name)
    out = write_results(loaded.run_dir, loaded.step, record, results)
    print(
        f"evaluated {loaded.describe()}: {len(fake)} generated vs {len(real)} real images, "
        f"features {extractor.name}\n{report(results)}\n"
        f"wrote {display_path(out)} and eval/* scalars at step {loaded.step} in TensorBoard"
    )
    return 0


main = entry_point(run)
