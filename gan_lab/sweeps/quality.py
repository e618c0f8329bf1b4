"""The cheap quality evaluation that ends every finished sweep job, so a sweep ranks by its images.

A low G loss says nothing about the samples (it is low when D's is high), so each job scores its
final G: FID, KID and k-NN precision/recall on metrics.sweep_samples generated images against as
many real ones (0 turns it off). The features are Inception-v3 when its weights are on this machine
(metrics.inception_weights, or torch.hub's cache), else the weights-free RandomConvFeatures, whose
numbers compare only with each other; metrics.json and the sweep table name which one was used.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from omegaconf import DictConfig

from gan_lab.metrics import settings
from gan_lab.metrics.features import inception_cache_file

log = logging.getLogger("gan_lab.sweeps.quality")

OFFLINE_FEATURES = "gan_lab.metrics.features.RandomConvFeatures"


def sweep_features(m: DictConfig) -> str:
    """metrics.features, except that Inception without local weights falls back to the offline features."""
    if m.features != "inception" or m.inception_weights or inception_cache_file().is_file():
        return str(m.features)
    return OFFLINE_FEATURES


def evaluate_job(cfg: DictConfig, run_dir: Path) -> dict | None:
    """Score the job's last checkpoint into metrics.json (and eval/* scalars); None when turned off."""
    from gan_lab.metrics.features import build_extractor
    from gan_lab.runs.scoring import evaluation_record, score_samples, write_results
    from gan_lab.runs.trained import load_run
    from gan_lab.training.device import resolve_device

    base = settings.resolve(cfg, {})
    samples = int(base.sweep_samples)
    if samples == 0:
        return None
    started = time.perf_counter()
    features = sweep_features(base)
    m = settings.resolve(cfg, {"num_samples": samples, "num_real": samples, "features": features})
    m.kid_subset_size = min(int(m.kid_subset_size), samples)
    m.diversity_samples = min(int(m.diversity_samples), samples)
    device = resolve_device(cfg.trainer.device)
    loaded = load_run(run_dir, device=device)
    weights = Path(m.inception_weights) if m.inception_weights else None
    extractor = build_extractor(features, weights, device)
    data_dir = Path(str(cfg.paths.data_dir)).expanduser()
    results, fake, real = score_samples(loaded, m, extractor, data_dir)
    record = {**evaluation_record(loaded, 0, fake, real, extractor.name), "source": "sweep"}
    write_results(run_dir, loaded.step, record, results)
    shown = ", ".join(f"{k} {results[k]:.4g}" for k in ("fid", "kid", "precision", "recall") if k in results)
    log.info(f"quality of step {loaded.step} ({len(fake)} samples, features {extractor.name}): {shown} "
             f"({time.perf_counter() - started:.0f} s)")
    return results
