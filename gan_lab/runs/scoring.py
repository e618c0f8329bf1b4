"""A trained run's samples scored against its dataset, and the scores recorded in the run directory.

Shared by `gan-lab evaluate` and the quality evaluation that ends every sweep job (sweeps/quality.py):
the same seeded noise and real subset, FID/KID and k-NN precision/recall on one feature network,
the checkerboard and diversity ratios, then metrics.json and `eval/*` scalars in TensorBoard.
"""

from __future__ import annotations

from pathlib import Path

import torch
from omegaconf import DictConfig

from gan_lab.data import real_images
from gan_lab.metrics.features import FeatureExtractor
from gan_lab.metrics.fid import SampleQuality
from gan_lab.metrics.precision_recall import of_quality
from gan_lab.metrics.ratios import image_metrics
from gan_lab.models.latent import latents
from gan_lab.runs.layout import write_metrics
from gan_lab.runs.tensorboard import RunWriter
from gan_lab.runs.trained import LoadedRun, generate


def score_samples(
    loaded: LoadedRun, m: DictConfig, extractor: FeatureExtractor, data_dir: Path, seed: int = 0
) -> tuple[dict, torch.Tensor, torch.Tensor]:
    """(scores, fake, real): m.num_samples images of the run's G against m.num_real of its dataset."""
    real = real_images(loaded.cfg, m.num_real, seed, data_dir)
    z = latents(m.num_samples, loaded.latent_dim, loaded.cfg.model.latent_dist, seed)
    fake = generate(loaded.G, z, m.batch_size, loaded.device)
    quality = SampleQuality(extractor, m.kid_subset_size)
    quality.add_real(real.split(m.batch_size))
    results = quality.score(fake.split(m.batch_size), seed=seed, with_is=fake.shape[1] == 3)
    results.update(of_quality(quality))  # precision / recall on the features FID and KID used
    results.update(image_metrics(fake, real, m.diversity_samples))
    return results, fake, real


def relative(file: Path, run_dir: Path) -> str:
    """checkpoints/step_000004.pt for a file inside the run directory, else the path as given."""
    try:
        return str(file.resolve().relative_to(run_dir.resolve()))
    except ValueError:
        return str(file)


def evaluation_record(loaded: LoadedRun, seed: int, fake: torch.Tensor, real: torch.Tensor, features: str) -> dict:
    """What was scored: metrics.json's fields next to the scores."""
    return {
        "checkpoint": relative(loaded.checkpoint, loaded.run_dir), "step": loaded.step, "generator": loaded.G_name,
        "seed": seed, "num_generated": len(fake), "num_real": len(real), "features": features,
    }  # fmt: skip


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
