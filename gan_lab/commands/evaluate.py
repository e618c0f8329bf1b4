"""`gan-lab evaluate <run dir>`: FID, KID (and Inception Score for RGB) against the run's dataset, plus
the weights-free checkerboard and diversity ratios, into metrics.json and TensorBoard (`eval/*`).

FID/KID/IS come from torchmetrics (metrics/fid.py) on the features of metrics.features: the
library's Inception-v3 by default, or any nn.Module. Checkerboard and diversity need no weights and
are always reported; `metrics.classifier=true` adds the class histogram of the samples (mnist, cifar10).
"""

from __future__ import annotations

from pathlib import Path

import torch
from omegaconf import DictConfig

from gan_lab.commands.run_options import CHECKPOINT, DEVICE, open_run
from gan_lab.config.options import Option, entry_point, integer, path
from gan_lab.data import real_images
from gan_lab.data.labelled import LABELLED, load_labelled, subset
from gan_lab.errors import UserError
from gan_lab.metrics import settings
from gan_lab.metrics.classifier import SmallCNN, accuracy, class_histogram, fit, predict
from gan_lab.metrics.features import build_extractor
from gan_lab.metrics.fid import SampleQuality
from gan_lab.metrics.precision_recall import of_quality
from gan_lab.metrics.ratios import image_metrics
from gan_lab.models.latent import latents
from gan_lab.runs.layout import display_path, write_metrics
from gan_lab.runs.tensorboard import RunWriter
from gan_lab.runs.trained import generate

SUMMARY = (
    "Scores a run's checkpoint against its dataset: FID and KID (and Inception Score for RGB) computed by\n"
    "torchmetrics, the checkerboard and diversity ratios, optionally the class histogram of the samples.\n"
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


def class_metrics(cfg: DictConfig, fake: torch.Tensor, m: DictConfig, data_dir: Path, seed: int, device) -> dict:
    """Class histogram of generated images under a small CNN trained on the dataset's labels."""
    name = cfg.dataset.name
    if name not in LABELLED:
        raise UserError(
            f"metrics.classifier=true needs a labelled dataset ({', '.join(LABELLED)}); this run trained on {name}"
        )
    size, channels = cfg.dataset.image_size, cfg.dataset.channels
    train_x, train_y, names = load_labelled(name, data_dir, True, size, channels)
    train_x, train_y = subset(train_x, train_y, m.classifier_train, seed)
    test_x, test_y, _ = load_labelled(name, data_dir, False, size, channels)
    test_x, test_y = subset(test_x, test_y, 2000, seed)
    torch.manual_seed(seed)
    model = fit(SmallCNN(channels, len(names)), train_x, train_y, m.classifier_epochs, device, seed=seed)
    histogram = class_histogram(predict(model, fake, device), len(names))
    return {
        "classifier_accuracy": accuracy(model, test_x, test_y, device),
        "class_histogram": dict(zip(names, histogram)),
    }


def scalars(results: dict) -> dict[str, float]:
    """The numeric results as TensorBoard tags: eval/fid, eval/class/<name>, ..."""
    tags = {f"eval/{k}": v for k, v in results.items() if isinstance(v, float)}
    tags.update({f"eval/class/{k}": v for k, v in results.get("class_histogram", {}).items()})
    return tags


def write_results(run_dir: Path, step: int, record: dict, results: dict) -> Path:
    """metrics.json (read by compare and the sweep index) and eval/* scalars in TensorBoard."""
    out = write_metrics(run_dir, {**record, **results})
    writer = RunWriter(run_dir)
    writer.scalars(step, scalars(results))
    writer.close()
    return out


def _relative(file: Path, run_dir: Path) -> str:
    """checkpoints/step_000004.pt for a file inside the run directory, else the path as given."""
    try:
        return str(file.resolve().relative_to(run_dir.resolve()))
    except ValueError:
        return str(file)


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
    given = {k: o[k] for k in o.given if k.startswith("metrics.")}
    if "n" in o.given:
        given["metrics.num_samples"] = o["n"]
    m = settings.resolve(loaded.cfg, given)
    data_dir = data_dir_of(loaded.cfg, o["data_dir"])
    extractor = build_extractor(m.features, Path(m.inception_weights) if m.inception_weights else None, loaded.device)

    real = real_images(loaded.cfg, m.num_real, o["seed"], data_dir)
    z = latents(m.num_samples, loaded.latent_dim, loaded.cfg.model.latent_dist, o["seed"])
    fake = generate(loaded.G, z, m.batch_size, loaded.device)
    quality = SampleQuality(extractor, m.kid_subset_size)
    quality.add_real(real.split(m.batch_size))
    results = quality.score(fake.split(m.batch_size), seed=o["seed"], with_is=fake.shape[1] == 3)
    results.update(of_quality(quality))  # precision / recall on the features FID and KID used
    results.update(image_metrics(fake, real, m.diversity_samples))
    if m.classifier:
        results.update(class_metrics(loaded.cfg, fake, m, data_dir, o["seed"], loaded.device))

    record = {
        "checkpoint": _relative(loaded.checkpoint, loaded.run_dir), "step": loaded.step, "generator": loaded.G_name,
        "seed": o["seed"], "num_generated": len(fake), "num_real": len(real), "features": extractor.name,
    }  # fmt: skip
    out = write_results(loaded.run_dir, loaded.step, record, results)
    print(
        f"evaluated {loaded.describe()}: {len(fake)} generated vs {len(real)} real images, "
        f"features {extractor.name}\n{report(results)}\n"
        f"wrote {display_path(out)} and eval/* scalars at step {loaded.step} in TensorBoard"
    )
    return 0


main = entry_point(run)
