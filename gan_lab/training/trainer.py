"""The training loop: a D step and a G step per iteration, logging and samples every N steps.

The step stays free of host-device syncs: losses and D's outputs are summed on the device and
read back once per logging step, and gradient norms are only computed on logging steps. The first
step with a non-finite loss is also tracked on the device and read back with them.

A run is resumable at every checkpoint: weights, optimisers, EMA, every RNG, the data order and the
partial logging interval are saved, so N + N steps with a resume in between equal 2N steps straight.
"""

from __future__ import annotations

import logging
import signal
import time
from pathlib import Path

import torch
import torch.nn as nn
from omegaconf import DictConfig, OmegaConf
from torch.autograd.profiler import record_function
from torchvision.utils import save_image

from gan_lab.config.validate import duration_seconds
from gan_lab.data import to_unit_range
from gan_lab.doctor.monitor import Doctor
from gan_lab.doctor.overfitting import HoldoutProbe
from gan_lab.errors import RunStopped
from gan_lab.models import parameterised_layers
from gan_lab.models.latent import sample_latent
from gan_lab.runs.checkpoint import prune_checkpoints, save_atomic
from gan_lab.runs.layout import display_path, sample_grid, step_checkpoint, write_summary
from gan_lab.runs.tensorboard import RunWriter, image_grid
from gan_lab.training import distributed
from gan_lab.training.compiled import compile_modules, first_compiled_step, in_dtype_of, memory_format
from gan_lab.training.augment import Augment
from gan_lab.training.device import resolve_precision
from gan_lab.training.distributed import SINGLE, World
from gan_lab.training.ema import EMA
from gan_lab.training.label_tricks import LabelTricks, instance_noise_std, with_instance_noise
from gan_lab.training.losses import build_loss, gradient_penalty
from gan_lab.training.nonfinite import NonFiniteGuard
from gan_lab.training.optimizers import build_optimizers, clip_gradients, layer_grad_norms
from gan_lab.training.periodic_eval import TrainingEval
from gan_lab.training.progress import Progress
from gan_lab.training.regularisers import Regulariser
from gan_lab.training.signals import StopRequests
from gan_lab.training.state import restore_trainer_state, trainer_state
from gan_lab.training.step_settings import StepSettings

log = logging.getLogger(__name__)

# What the loop sums on the device every step and logs as interval means.
STAT_TAGS = ("loss/D", "loss/G", "prob/D_real", "prob/D_fake", "augment/r_t")  # r_t: ADA's signal (losses.py)


class Trainer:
    """Owns G, D, their optimisers and the run directory's outputs for one training run."""

    def __init__(self, cfg: DictConfig, G: nn.Module, D: nn.Module, source, run_dir: Path, device: torch.device,
                 world: World = SINGLE):  # fmt: skip
        self.cfg, self.t, self.world = cfg, cfg.trainer, world
        self.settings = StepSettings.from_config(cfg)  # what every step reads, as plain attributes
        self.memory_format = memory_format(self.t.channels_last, self.t.compile, device)
        self.amp_dtype = resolve_precision(self.t.precision, device)
        self.G = G.to(device, memory_format=self.memory_format)
        self.D = D.to(device, memory_format=self.memory_format)
        self.source, self.run_dir, self.device = source, run_dir, device
        self.use_eager_modules()
        if self.t.compile:
            compiled = compile_modules((self.G_train, self.D_train, self.D_for_G))
            if compiled is not None:
                self.G_train, self.D_train, self.D_for_G = compiled
                self._compile_pending = self.compiled = True
        self.opt_G, self.opt_D = build_optimizers(cfg.optim, self.G, self.D, device)
        self.labels = LabelTricks.from_config(cfg.tricks)
        self.loss = build_loss(cfg.loss, self.labels.target_range())
        self.augment, self.reg = Augment.from_config(cfg.get("augment")), Regulariser.from_config(cfg.get("reg"))
        self.ema = EMA(self.G, cfg.model.ema_decay) if cfg.model.ema_decay else None
        self.latent_dim, self.latent_dist = cfg.model.latent_dim, cfg.model.latent_dist
        self.g_layers, self.d_layers = parameterised_layers(self.G), parameterised_layers(self.D)
        # The same noise for every run with this seed, so sample grids of a sweep compare directly.
        noise = torch.Generator().manual_seed(self.t.seed)
        self.fixed_z = self.sample_latent(self.t.num_samples, generator=noise).to(device)
        self.step = 0
        self._sums = torch.zeros(len(STAT_TAGS), device=device)
        self._count = 0
        self.nonfinite = NonFiniteGuard(self.t.on_nan, {"G": self.G, "D": self.D}, device)
        self.last_checkpoint: Path | None = None
        self.stop_requests = StopRequests()
        self.time_limit = duration_seconds("trainer.time_limit", self.t.get("time_limit"))  # seconds or None
        self._norms: dict[str, torch.Tensor] = {}
        self.last_logged: dict[str, float] = {}
        self.last_grid: Path | None = None
        # The GAN doctor: static checks now, then detectors fed from _log and _write_samples.
        self.doctor = Doctor(cfg, run_dir, flipped=self.labels.real_value < self.labels.fake_value)
        self.doctor.check_models(self.G, self.D, cfg)
        # FID/KID etc. every trainer.eval_every steps (0: off) and checkpoints/best.pt (training/periodic_eval.py)
        self.holdout = HoldoutProbe(source, device, self.memory_format)  # D overfits
        self.evaluator = TrainingEval(cfg, run_dir, device) if self.t.get("eval_every") and world.is_main else None

    # ----------------------------------------------------------------- the step
    def sample_latent(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """z from the model's prior on the training device (on the CPU when drawn from `generator`)."""
        device = self.device if generator is None else "cpu"
        return sample_latent(n, self.latent_dim, self.latent_dist, device, generator)

    def autocast(self) -> torch.autocast:
        """bf16 autocast for the forward passes when trainer.precision resolves to bf16."""
        return torch.autocast(self.device.type, dtype=self.amp_dtype or torch.float32, enabled=self.amp_dtype is not None)

    def train_step(self, step: int, record_norms: bool) -> None:
        """optim.d_steps D updates on fresh batches, then one G update on the last generated batch.

        The profiler ranges (gan_lab/data, D step, G step) give the benchmark its step-time breakdown.
        """
        s = self.settings
        noise_std = instance_noise_std(s.instance_noise, s.instance_noise_steps, step)
        for d_step in range(s.d_steps):
            with record_function("gan_lab/data"):
                real = to_unit_range(self.source.next_batch()).contiguous(memory_format=self.memory_format)
            last_d_step = d_step == s.d_steps - 1
            with record_function("gan_lab/D step"):
                fake, real_out, fake_out, loss_D, finite = self._d_step(real, noise_std, record_norms and last_d_step, last_d_step)
        with record_function("gan_lab/G step"):
            loss_G, finite_G = self._g_step(fake, noise_std, record_norms, real)
        finite = finite and finite_G
        if self.ema is not None and finite:
            self.ema.update(step)

        r_t = self.loss.r_t(real_out, fake_out, self.labels.real_value, self.labels.fake_value)
        probs = [torch.sigmoid(real_out).mean(), torch.sigmoid(fake_out).mean(), r_t]
        stats = torch.stack([loss_D, loss_G, *probs]).detach()
        if self.nonfinite.record(step, stats, finite, self.last_checkpoint):
            self._sums += stats
            self._count += 1

    def interval_means(self) -> torch.Tensor:
        """The mean of each STAT_TAGS value over the steps since the last logging step (device tensor)."""
        return self._sums / max(self._count, 1)

    def _d_step(self, real: torch.Tensor, noise_std: float, record_norms: bool, for_g_step: bool):
        """One D update: real batch -> real target, generated batch (detached) -> fake target.

        Only the batch the G step will reuse (for_g_step) keeps G's graph.
        """
        with self.autocast():
            with torch.set_grad_enabled(for_g_step):
                fake = (self.G_train if for_g_step else self.G)(self.sample_latent(real.shape[0]))
            seen_real = self.augment(with_instance_noise(real, noise_std))  # augment=: what D sees
            seen_fake = self.augment(with_instance_noise(fake.detach(), noise_std))
            real_out = self.D_train(in_dtype_of(seen_real, seen_fake, self.compiled)).float()
            fake_out = self.D_train(seen_fake).float()
        real_target, fake_target = self.labels.d_targets(real_out, fake_out) if self.loss.uses_labels else (None, None)
        loss_D = self.loss.d_loss(real_out, fake_out, real_target, fake_target)
        if self.loss.gp_weight:
            with self.autocast():
                loss_D = loss_D + self.loss.gp_weight * gradient_penalty(self.D, real, fake.detach())
        penalty = self.reg.penalty(self.D, seen_real, seen_fake)  # reg=r1|r1_r2, fp32, on lazy steps
        loss_D = loss_D if penalty is None else loss_D + penalty
        finite = self._update("D", loss_D, record_norms)
        return fake, real_out, fake_out, loss_D, finite

    def _g_step(self, fake: torch.Tensor, noise_std: float, record_norms: bool, real: torch.Tensor):
        """One G update: make D call the generated batch real; D's weights need no gradients here.

        D is called unwrapped: under torchrun only G's gradients are averaged in this step. loss=rpgan pairs
        each generated image with a real one, so D also scores `real` (no gradients needed there).
        """
        self.D.requires_grad_(False)
        try:
            with self.autocast():
                seen_fake = self.augment(with_instance_noise(fake, noise_std))
                gen_out = self.D_for_G(seen_fake).float()
                with torch.no_grad():
                    seen_real = in_dtype_of(self.augment(real), seen_fake, self.compiled)
                    paired = [self.D_for_G(seen_real).float()] if hasattr(self.loss, "pairs_real") else []
            loss_G = self.loss.g_loss(gen_out, self.labels.real_value, self.labels.fake_value, *paired)
            finite = self._update("G", loss_G, record_norms)
        finally:  # a failed (compiling) G step must not leave D frozen for the eager retry
            self.D.requires_grad_(True)
        return loss_G, finite

    def _update(self, net: str, loss: torch.Tensor, record_norms: bool) -> bool:
        """Backward, clipping, the gradient norms on logging steps, then the optimiser step of G or D."""
        model, optimizer, layers = (self.G, self.opt_G, self.g_layers) if net == "G" else (self.D, self.opt_D, self.d_layers)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        clip_gradients(model, self.settings.clip_value, self.settings.clip_norm)
        if record_norms:
            self._norms[net] = layer_grad_norms(layers)
        if not self.nonfinite.update_allowed(loss, model, optimizer):
            return False
        optimizer.step()
        return True

    # ----------------------------------------------------------------- module wrappers
    def use_eager_modules(self) -> None:
        """What the steps call: G and D as they are, in DistributedDataParallel under torchrun.

        The G step calls D unwrapped: only G's gradients are averaged there.
        """
        wrap = (lambda m, **k: distributed.wrap(m, self.world, self.device, **k)) if self.world.size > 1 else (lambda m, **k: m)
        self.G_train, self.D_train, self.D_for_G = wrap(self.G), wrap(self.D, broadcast_buffers=False), self.D
        self._compile_pending = self.compiled = False

    # ----------------------------------------------------------------- the loop
    def fit(self) -> dict:
        """Train to trainer.steps; write TensorBoard, sample grids, checkpoints and summary.json.

        Ctrl-C / SIGTERM finish the current step, save a checkpoint and raise RunStopped (exit 130 / 143).
        """
        self.begin()
        progress = Progress(total=self.settings.steps, initial=self.step)
        started = time.perf_counter()
        first_step, status = self.step, "ok"
        try:
            with self.stop_requests.caught(lambda: (self.step, self.settings.steps, self.last_checkpoint)):
                for step in range(self.step + 1, self.settings.steps + 1):
                    out_of_time = self._out_of_time(started)  # then this step is the last: grid, checkpoint
                    self.run_step(step, last=step == self.settings.steps or out_of_time, progress=progress)
                    progress.advance()
                    if self.stop_requests.signal:
                        self.stop_requests.stop(step, self.settings.steps, self.last_checkpoint, self.run_dir)
                    if out_of_time and step < self.settings.steps:
                        status = "time_limit"
                        break
        except RunStopped as stop:
            progress.close()
            self._write_summary(time.perf_counter() - started, first_step, stop.status, str(stop))
            raise
        finally:
            progress.close()
            self.end()
        return self._write_summary(time.perf_counter() - started, first_step, status)

    def _out_of_time(self, started: float) -> bool:
        """trainer.time_limit reached (every rank agrees under torchrun)."""
        if self.time_limit is None:
            return False
        over = time.perf_counter() - started >= self.time_limit
        return distributed.any_rank(over) if self.world.size > 1 else over

    def begin(self) -> None:
        """Open the run's TensorBoard files (and write the config, layout and real grid on a fresh run)."""
        fresh, self._interval_start, self._interval_images = self.step == 0, time.perf_counter(), 0
        if not self.world.is_main:
            return
        # On resume, events the killed process logged after its last checkpoint are dropped.
        self.writer = RunWriter(self.run_dir, purge_step=None if fresh else self.step + 1)
        real = to_unit_range(self.source.preview(self.t.num_samples))  # a streamed folder reads these files: once
        if fresh:
            self.writer.config(OmegaConf.to_yaml(self.cfg))
            self.writer.layout([n for n, _ in self.g_layers], [n for n, _ in self.d_layers])
            self.writer.grid("real", image_grid(real), 0)
        self.doctor.start(self.writer, real, self.step)

    def run_step(self, step: int, last: bool, progress: Progress | None = None) -> None:
        """One training step and whatever falls due at it: logging, samples, a checkpoint."""
        t = self.settings
        log_now = step % t.log_every == 0 or last
        if self._compile_pending:
            first_compiled_step(self, step, log_now)
            self._compile_pending = False
        else:
            self.train_step(step, record_norms=log_now)
        self.step = step
        self._interval_images += t.batch_size * self.world.size
        if self.world.size > 1 and distributed.any_rank(self.stop_requests.signal is not None):
            self.stop_requests.signal = self.stop_requests.signal or signal.SIGTERM  # every rank stops after the same step
        if log_now:
            with record_function("gan_lab/logging"):
                img_per_s = self._interval_images / (time.perf_counter() - self._interval_start)
                self._log(step, img_per_s)
            if progress is not None and self.world.is_main:
                progress.report(step, self.last_logged["loss/D"], self.last_logged["loss/G"], img_per_s)
            self._interval_start, self._interval_images = time.perf_counter(), 0
        if (step % t.sample_every == 0 or last) and self.world.is_main:
            self._write_samples(step)
        if (t.checkpoint_every and step % t.checkpoint_every == 0) or last or self.stop_requests.signal:
            self.save_checkpoint(step)
        if self.evaluator is not None and self.evaluator.due(step, last):
            self.evaluator.run(step, self)

    def end(self) -> None:
        """Save the doctor's diagnoses and close the event files."""
        if self.world.is_main:
            self.doctor.save()
            self.writer.close()

    # ----------------------------------------------------------------- resume
    def state_dict(self, step: int) -> dict:
        """Everything needed to continue this run exactly where it is (training/state.py)."""
        return trainer_state(self, step)

    def load_state_dict(self, payload: dict, path: Path) -> None:
        """Continue from a checkpoint written by state_dict() (resume=)."""
        restore_trainer_state(self, payload, path)
        self.last_checkpoint = path

    # ----------------------------------------------------------------- outputs
    def _log(self, step: int, img_per_s: float) -> None:
        """The one host-device sync of a logging step: interval means and gradient norms."""
        if self.world.size > 1:  # means over every rank; gradients are already averaged by DDP
            distributed.all_reduce_(self._sums).div_(self.world.size)
            distributed.all_reduce_(self.nonfinite.first, "max")
        # One readback: the interval means and the first non-finite step (-1: none).
        first = self.nonfinite.first.view(1).to(self._sums.dtype)
        *means, first_nonfinite = torch.cat([self.interval_means(), first]).tolist()
        norms = {net: values.tolist() for net, values in self._norms.items()}
        means = dict(zip(STAT_TAGS, means), **self.holdout.measure(self.D, self.autocast))  # doctor/holdout_gap
        if self.world.is_main:
            self.doctor.observe(step, means, norms)  # host values only: no extra sync
        self.nonfinite.check(int(first_nonfinite), means, self.last_checkpoint)
        self._sums.zero_()
        self._count = 0
        values = dict(means, **self.augment.adjust(means["augment/r_t"], self._interval_images))
        values["lr/G"] = self.opt_G.param_groups[0]["lr"]
        values["lr/D"] = self.opt_D.param_groups[0]["lr"]
        values["perf/img_per_s"] = img_per_s
        if self.nonfinite.skip:
            values["train/skipped_steps"] = self.nonfinite.skipped_steps
        self.last_logged = values
        if self.world.is_main:
            self.writer.scalars(step, values)
            self.writer.grad_norms(step, "G", [n for n, _ in self.g_layers], norms["G"])
            self.writer.grad_norms(step, "D", [n for n, _ in self.d_layers], norms["D"])
        stop = self.world.is_main and bool(self.doctor.stop_reason())
        if self.world.size > 1:
            stop = distributed.any_rank(stop)  # rank 0's doctor decides for every rank
        if stop:
            self._stop_for_doctor(step)

    def _stop_for_doctor(self, step: int) -> None:
        """doctor.stop_on_collapse: save the samples and a checkpoint of this step, then stop (exit 4)."""
        reason = self.doctor.stop_reason() if self.world.is_main else "stopped on rank 0"
        if self.world.is_main:
            self._write_samples(step)
        self.save_checkpoint(step)
        raise RunStopped(
            f"the doctor stopped the run at step {step}/{self.settings.steps}: {reason}; saved "
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
        path = sample_grid(self.run_dir, step)
        save_image(grid, path)
        self.last_grid = path

    def save_checkpoint(self, step: int) -> Path:
        """checkpoints/step_NNNNNN.pt, written atomically; never a non-finite one; the last K kept."""
        self.nonfinite.check_weights(step, self.last_checkpoint)
        if self.world.size > 1:  # D's BatchNorm statistics are not broadcast every step (distributed.wrap)
            distributed.sync_buffers(self.D)
        path = step_checkpoint(self.run_dir, step)
        state = self.state_dict(step)  # every rank takes part: it gathers their RNG states
        self.last_checkpoint = path
        if self.world.is_main:
            save_atomic(state, path)
            prune_checkpoints(path.parent, self.t.keep_checkpoints)
        return path

    def _write_summary(self, wall_time: float, first_step: int, status: str = "ok", error: str | None = None) -> dict:
        """summary.json: final values, throughput of this session, and how the run ended."""
        summary = {
            "status": status,
            "steps": self.step,
            "final": {tag.replace("/", "_"): self.last_logged.get(tag) for tag in STAT_TAGS},
            "wall_time_s": round(wall_time, 2),
            "img_per_s": round((self.step - first_step) * self.t.batch_size * self.world.size / max(wall_time, 1e-9), 1),
            "batch_size": self.t.batch_size,
            "device": str(self.device),
            "last_grid": str(self.last_grid.relative_to(self.run_dir)) if self.last_grid else None,
            "checkpoint": str(self.last_checkpoint.relative_to(self.run_dir)) if self.last_checkpoint else None,
            **({"skipped_steps": self.nonfinite.skipped_steps} if self.nonfinite.skip else {}),
            **({"error": error} if error else {}),
        }
        if self.world.size > 1:
            summary["processes"] = self.world.size
        if self.world.is_main:
            write_summary(self.run_dir, summary)
        return summary
