"""The training loop: a D step and a G step per iteration, logging and samples every N steps.

The step stays free of host-device syncs: losses and D's outputs are summed on the device and
read back once per logging step, and gradient norms are only computed on logging steps.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import torch
import torch.nn as nn
from omegaconf import DictConfig, OmegaConf
from torchvision.utils import save_image

from gan_lab.checkpoint import save_atomic
from gan_lab.data import to_unit_range
from gan_lab.doctor.monitor import Doctor
from gan_lab.ema import EMA
from gan_lab.errors import RunStopped
from gan_lab.evalhook import TrainingEval
from gan_lab.labels import LabelTricks, instance_noise_std
from gan_lab.losses import build_loss, gradient_penalty
from gan_lab.models import parameterised_layers
from gan_lab.optim import build_optimizers, clip_gradients
from gan_lab.progress import Progress
from gan_lab.rundir import display_path
from gan_lab.runtime import resolve_precision
from gan_lab.tb import RunWriter, image_grid

log = logging.getLogger(__name__)

# What the loop sums on the device every step and logs as interval means.
STAT_TAGS = ("loss/D", "loss/G", "prob/D_real", "prob/D_fake")


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
        0, torch.tensor(owner, device=norms.device), norms.float() ** 2
    )
    return squared.sqrt()


class Trainer:
    """Owns G, D, their optimisers and the run directory's outputs for one training run."""

    def __init__(self, cfg: DictConfig, G: nn.Module, D: nn.Module, source, run_dir: Path, device: torch.device):
        self.cfg, self.t = cfg, cfg.trainer
        self.memory_format = torch.channels_last if self.t.channels_last else torch.contiguous_format
        self.amp_dtype = resolve_precision(self.t.precision, device)
        self.G = G.to(device, memory_format=self.memory_format)
        self.D = D.to(device, memory_format=self.memory_format)
        self.source, self.run_dir, self.device = source, run_dir, device
        self.opt_G, self.opt_D = build_optimizers(cfg.optim, self.G, self.D, device)
        self.loss = build_loss(cfg.loss)
        self.labels = LabelTricks.from_config(cfg.tricks)
        self.ema = EMA(self.G, cfg.model.ema_decay) if cfg.model.ema_decay else None
        self.latent_dim, self.latent_dist = cfg.model.latent_dim, cfg.model.latent_dist
        self.g_layers, self.d_layers = parameterised_layers(self.G), parameterised_layers(self.D)
        # The same noise for every run with this seed, so sample grids of a sweep compare directly.
        noise = torch.Generator().manual_seed(self.t.seed)
        self.fixed_z = self.sample_latent(self.t.num_samples, generator=noise).to(device)
        self.step = 0
        self._sums = torch.zeros(len(STAT_TAGS), device=device)
        self._count = 0
        self._norms: dict[str, torch.Tensor] = {}
        self.last_logged: dict[str, float] = {}
        self.last_grid: Path | None = None
        # The GAN doctor: static checks now, then detectors fed from _log and _write_samples.
        self.doctor = Doctor(cfg, run_dir, flipped=self.labels.real_value < self.labels.fake_value)
        self.doctor.check_models(self.G, self.D, cfg)
        # FID/KID etc. every trainer.eval_every steps (0: off) and checkpoints/best.pt (gan_lab/evalhook.py)
        self.evaluator = TrainingEval(cfg, run_dir, device) if self.t.get("eval_every") else None

    # ----------------------------------------------------------------- the step
    def sample_latent(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """z from the model's prior: N(0, 1) or U[-1, 1] (model.latent_dist)."""
        device = self.device if generator is None else "cpu"
        if self.latent_dist == "uniform":
            return torch.rand(n, self.latent_dim, device=device, generator=generator).mul_(2).sub_(1)
        return torch.randn(n, self.latent_dim, device=device, generator=generator)

    def autocast(self) -> torch.autocast:
        """bf16 autocast for the forward passes when trainer.precision resolves to bf16."""
        return torch.autocast(self.device.type, dtype=self.amp_dtype or torch.float32, enabled=self.amp_dtype is not None)

    def _with_instance_noise(self, images: torch.Tensor, std: float) -> torch.Tensor:
        return images + std * torch.randn_like(images) if std > 0 else images

    def train_step(self, step: int, record_norms: bool) -> None:
        """optim.d_steps D updates on fresh batches, then one G update on the last generated batch."""
        o, tricks = self.cfg.optim, self.cfg.tricks
        noise_std = instance_noise_std(tricks.instance_noise, tricks.instance_noise_steps, step)
        for d_step in range(o.d_steps):
            real = to_unit_range(self.source.next_batch()).contiguous(memory_format=self.memory_format)
            with self.autocast():
                fake = self.G(self.sample_latent(real.shape[0]))
                # D: real batch -> real target, generated batch (detached) -> fake target
                real_out = self.D(self._with_instance_noise(real, noise_std)).float()
                fake_out = self.D(self._with_instance_noise(fake.detach(), noise_std)).float()
            real_target, fake_target = (
                self.labels.d_targets(real_out, fake_out) if self.loss.uses_labels else (None, None)
            )
            loss_D = self.loss.d_loss(real_out, fake_out, real_target, fake_target)
            if self.loss.gp_weight:
                with self.autocast():
                    loss_D = loss_D + self.loss.gp_weight * gradient_penalty(self.D, real, fake.detach())
            self.opt_D.zero_grad(set_to_none=True)
            loss_D.backward()
            clip_gradients(self.D, o.clip_value, o.clip_norm)
            if record_norms and d_step == o.d_steps - 1:
                self._norms["D"] = layer_grad_norms(self.d_layers)
            self.opt_D.step()

        # G: make D call the generated batch real; D's weights need no gradients here
        self.D.requires_grad_(False)
        with self.autocast():
            gen_out = self.D(self._with_instance_noise(fake, noise_std)).float()
        loss_G = self.loss.g_loss(gen_out, self.labels.real_value, self.labels.fake_value)
        self.opt_G.zero_grad(set_to_none=True)
        loss_G.backward()
        clip_gradients(self.G, o.clip_value, o.clip_norm)
        if record_norms:
            self._norms["G"] = layer_grad_norms(self.g_layers)
        self.opt_G.step()
        self.D.requires_grad_(True)
        if self.ema is not None:
            self.ema.update(step)

        stats = torch.stack([loss_D, loss_G, torch.sigmoid(real_out).mean(), torch.sigmoid(fake_out).mean()])
        self._sums += stats.detach()
        self._count += 1

    # ----------------------------------------------------------------- the loop
    def fit(self) -> dict:
        """Train to trainer.steps; write TensorBoard, sample grids, a checkpoint and summary.json."""
        t = self.t
        self.writer = RunWriter(self.run_dir)
        self.writer.config(OmegaConf.to_yaml(self.cfg))
        self.writer.layout([n for n, _ in self.g_layers], [n for n, _ in self.d_layers])
        self.writer.grid("real", image_grid(to_unit_range(self.source.preview(t.num_samples))), 0)
        self.doctor.start(self.writer, to_unit_range(self.source.preview(t.num_samples)), self.step)
        progress = Progress(total=t.steps, initial=self.step)
        started = interval_start = time.perf_counter()
        interval_images = 0
        first_step = self.step
        try:
            for step in range(self.step + 1, t.steps + 1):
                last = step == t.steps
                log_now = step % t.log_every == 0 or last
                self.train_step(step, record_norms=log_now)
                self.step = step
                interval_images += t.batch_size
                if log_now:
                    img_per_s = interval_images / (time.perf_counter() - interval_start)
                    self._log(step, img_per_s)
                    progress.report(step, self.last_logged["loss/D"], self.last_logged["loss/G"], img_per_s)
                    interval_start, interval_images = time.perf_counter(), 0
                if step % t.sample_every == 0 or last:
                    self._write_samples(step)
                if (t.checkpoint_every and step % t.checkpoint_every == 0) or last:
                    self.save_checkpoint(step)
                if self.evaluator is not None and self.evaluator.due(step, last):
                    self.evaluator.run(step, self)
                progress.advance()
        finally:
            progress.close()
            self.doctor.save()
            self.writer.close()
        wall = time.perf_counter() - started
        return self._write_summary(wall, (self.step - first_step) * t.batch_size / max(wall, 1e-9))

    # ----------------------------------------------------------------- outputs
    def _log(self, step: int, img_per_s: float) -> None:
        """The one host-device sync of a logging step: interval means and gradient norms."""
        means = (self._sums / max(self._count, 1)).tolist()
        norms = {net: values.tolist() for net, values in self._norms.items()}
        self.doctor.observe(step, dict(zip(STAT_TAGS, means)), norms)  # host values only: no extra sync
        self._sums.zero_()
        self._count = 0
        values = dict(zip(STAT_TAGS, means))
        values["lr/G"] = self.opt_G.param_groups[0]["lr"]
        values["lr/D"] = self.opt_D.param_groups[0]["lr"]
        values["perf/img_per_s"] = img_per_s
        self.writer.scalars(step, values)
        self.writer.grad_norms(step, "G", [n for n, _ in self.g_layers], norms["G"])
        self.writer.grad_norms(step, "D", [n for n, _ in self.d_layers], norms["D"])
        self.last_logged = values
        if self.doctor.stop_reason():
            self._stop_for_doctor(step)

    def _stop_for_doctor(self, step: int) -> None:
        """doctor.stop_on_collapse: save the samples and a checkpoint of this step, then stop (exit 4)."""
        reason = self.doctor.stop_reason()
        self._write_samples(step)
        self.save_checkpoint(step)
        raise RunStopped(
            f"the doctor stopped the run at step {step}/{self.t.steps}: {reason}; saved "
            f"{display_path(self.last_checkpoint)} (report: gan-lab doctor {display_path(self.run_dir)})",
            exit_code=4,
            status="stopped_by_doctor",
        )

    @torch.no_grad()
    def generate(self, z: torch.Tensor) -> torch.Tensor:
        """Images for z from the EMA copy of G when there is one, else G; BatchNorm in eval mode."""
        G = self.ema.model if self.ema is not None else self.G
        was_training = G.training
        G.eval()
        try:
            with self.autocast():
                return G(z).float()
        finally:
            G.train(was_training)

    def _write_samples(self, step: int) -> None:
        images = self.generate(self.fixed_z)
        self.doctor.observe_samples(step, images)  # a sample step may sync: diversity and checkerboard
        grid = image_grid(images)
        self.writer.grid("samples/fixed", grid, step)
        path = self.run_dir / "samples" / f"step_{step:06d}.png"
        path.parent.mkdir(exist_ok=True)
        save_image(grid, path)
        self.last_grid = path

    def save_checkpoint(self, step: int) -> Path:
        path = self.run_dir / "checkpoints" / f"step_{step:06d}.pt"
        save_atomic(
            {
                "G": self.G.state_dict(),
                **({"G_ema": self.ema.model.state_dict()} if self.ema is not None else {}),
                "D": self.D.state_dict(),
                "opt_G": self.opt_G.state_dict(),
                "opt_D": self.opt_D.state_dict(),
                "step": step,
                "config": OmegaConf.to_container(self.cfg, resolve=True),
            },
            path,
        )
        self.last_checkpoint = path
        return path

    def _write_summary(self, wall_time: float, img_per_s: float) -> dict:
        summary = {
            "steps": self.step,
            "final": {tag.replace("/", "_"): self.last_logged.get(tag) for tag in STAT_TAGS},
            "wall_time_s": round(wall_time, 2),
            "img_per_s": round(img_per_s, 1),
            "batch_size": self.t.batch_size,
            "device": str(self.device),
            "last_grid": str(self.last_grid.relative_to(self.run_dir)) if self.last_grid else None,
            "checkpoint": str(self.last_checkpoint.relative_to(self.run_dir)),
        }
        (self.run_dir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
        return summary
