"""Sample-quality metrics during training: every trainer.eval_every steps (0, the default, turns them off).

The training loop calls `due(step, last)` and, when due, `run(step, trainer)`: the trainer's G (its
EMA copy when it keeps one) generates metrics.num_samples images from the same seeded noise every
time; FID, KID, precision and recall (metrics/, on metrics.features) and the checkerboard and diversity ratios
go to TensorBoard as eval/*. The checkpoint with the lowest metrics.best so far is kept as
checkpoints/best.pt (G, G_ema, D, step, config: enough for generate, evaluate, interpolate and
probe), with checkpoints/best.json saying its step and value; FID often gets worse late in a run.
Real images' features are computed once, at the first evaluation.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import torch
from omegaconf import DictConfig, OmegaConf

from gan_lab.data import real_images
from gan_lab.data.transforms import to_uint8
from gan_lab.metrics import settings
from gan_lab.metrics.features import build_extractor
from gan_lab.metrics.fid import SampleQuality
from gan_lab.metrics.precision_recall import of_quality
from gan_lab.metrics.ratios import image_metrics
from gan_lab.models.latent import latents
from gan_lab.runs.checkpoint import save_atomic
from gan_lab.runs.layout import best_checkpoint, read_best_record, write_best_record

log = logging.getLogger(__name__)


class TrainingEval:
    """FID/KID, checkerboard and diversity of the training G every trainer.eval_every steps, and best.pt."""

    def __init__(self, cfg: DictConfig, run_dir: Path, device: torch.device):
        self.cfg, self.run_dir, self.device = cfg, run_dir, device
        self.every = int(cfg.trainer.eval_every)
        self.m = settings.resolve(cfg, {})
        weights = Path(self.m.inception_weights) if self.m.inception_weights else None
        self.quality = SampleQuality(build_extractor(self.m.features, weights, device), self.m.kid_subset_size)
        self.z = latents(self.m.num_samples, cfg.model.latent_dim, cfg.model.latent_dist, cfg.trainer.seed)
        self.real: torch.Tensor | None = None
        self.best = read_best_record(run_dir)  # survives a resume

    def due(self, step: int, last: bool) -> bool:
        return step % self.every == 0 or last

    def _real_images(self) -> torch.Tensor:
        # the same real subset as `gan-lab evaluate` with seed 0
        images = real_images(self.cfg, self.m.num_real, 0, Path(str(self.cfg.paths.data_dir)).expanduser())
        self.quality.add_real(images.split(self.m.batch_size))
        return images

    def run(self, step: int, trainer) -> dict[str, float]:
        """Score trainer.generate's images, log eval/* at `step`, and keep best.pt when the metric improved."""
        started = time.perf_counter()
        if self.real is None:
            self.real = self._real_images()
        fake = torch.cat([to_uint8(trainer.generate(z.to(self.device))).cpu() for z in self.z.split(self.m.batch_size)])
        results = self.quality.score(fake.split(self.m.batch_size), seed=0, with_is=fake.shape[1] == 3)
        results.update(of_quality(self.quality))  # precision / recall: blur and collapse tell apart
        results.update(image_metrics(fake, self.real, self.m.diversity_samples))
        trainer.writer.scalars(step, {f"eval/{k}": v for k, v in results.items()})
        value = results[self.m.best]
        improved = self.best is None or value < self.best["value"]
        if improved:
            self._save_best(step, value, trainer)
        log.info(
            f"eval at step {step}: "
            + ", ".join(f"{k} {v:.4g}" for k, v in results.items() if not k.endswith("_std"))
            + f" ({time.perf_counter() - started:.0f} s; best {self.m.best} so far: step {self.best['step']}"
            + (", saved checkpoints/best.pt)" if improved else ")")
        )
        return results

    def _save_best(self, step: int, value: float, trainer) -> None:
        payload = {
            "G": trainer.G.state_dict(),
            **({"G_ema": trainer.ema.model.state_dict()} if trainer.ema is not None else {}),
            "D": trainer.D.state_dict(),
            "step": step,
            "config": OmegaConf.to_container(self.cfg, resolve=True),
        }
        save_atomic(payload, best_checkpoint(self.run_dir))
        self.best = {"metric": self.m.best, "value": value, "step": step}
        write_best_record(self.run_dir, self.best)
