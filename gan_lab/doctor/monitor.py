"""The doctor inside a training run: static checks at start, detectors on logged values and samples.

It only sees values the loop has already read back (logging steps) or images it has already made
(sample steps), so it adds no host-device sync to a training step. Every detector event goes to the
console, to TensorBoard as text (`doctor/<check>`) and to `diagnoses.json` in the run directory.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import torch
import torch.nn as nn
from omegaconf import DictConfig, OmegaConf

from gan_lab.doctor.detectors import CHECKERBOARD, DIVERSITY, OBSERVED, Event, build_detectors, set_checkerboard_advice
from gan_lab.doctor.overfitting import HOLDOUT_GAP, R_T, overfitting_detectors
from gan_lab.doctor.static import StaticFinding, warn_about_models
from gan_lab.metrics.diversity import diversity
from gan_lab.metrics.spectral import nyquist_power_fraction
from gan_lab.runs.layout import diagnoses_file, write_diagnoses

log = logging.getLogger("gan_lab.doctor")


class Doctor:
    """The detectors of one run, the events they raised, and the run's diagnoses.json."""

    def __init__(self, cfg: DictConfig, run_dir: Path, flipped: bool = False):
        self.config, self.run_dir = cfg.doctor, Path(run_dir)
        self.detectors = build_detectors(cfg.doctor, cfg.loss.name, flipped) + overfitting_detectors(cfg.doctor)
        self.static: list[StaticFinding] = []
        self.events: list[Event] = []
        self.writer = None
        self.real: dict[str, float] = {}
        self.last_step = 0

    # ----------------------------------------------------------------- start
    def check_models(self, G: nn.Module, D: nn.Module, cfg: DictConfig) -> list[StaticFinding]:
        """The checks before training (logged as warnings; kept for diagnoses.json), and advice fit for G's layers."""
        set_checkerboard_advice(self.detectors, G)
        self.static = warn_about_models(G, D, cfg)
        return self.static

    def start(self, writer, real: torch.Tensor, step: int = 0) -> None:
        """Attach the run's writer and the real reference images (in [-1, 1]); write diagnoses.json.

        On resume (step > 0) the events up to that step are kept and the detectors take up their state.
        """
        self.writer, self.last_step = writer, step
        self.real = {"diversity": diversity(real), "nyquist": float(nyquist_power_fraction(real).mean())}
        path = diagnoses_file(self.run_dir)
        if step > 0 and path.is_file():
            previous = json.loads(path.read_text())
            self.events = [Event(**e) for e in previous.get("events", []) if e["step"] <= step]
            for detector in self.detectors:
                states = [e.state for e in self.events if e.check == detector.name]
                detector.active = bool(states) and states[-1] == "fired"
        elif self.static:
            lines = "\n".join(f"- **{f.check}** ({f.net}): {f.message}" for f in self.static)
            writer.text("doctor/static", lines, 0)
        self.save()

    # ----------------------------------------------------------------- observations
    def observe(self, step: int, values: dict[str, float], norms: dict[str, list[float]]) -> None:
        """A logging step: interval means and per-layer gradient norms, already on the host."""
        obs = {tag: values[tag] for tag in (*OBSERVED, R_T, HOLDOUT_GAP) if tag in values}
        obs.update({f"grad_norm/{net}": list(v) for net, v in norms.items()})
        self._feed(step, obs, samples=False)

    def observe_samples(self, step: int, images: torch.Tensor) -> None:
        """A sample step: diversity and checkerboard scores of the fixed-noise images, relative to real."""
        scores = {
            DIVERSITY: diversity(images) / max(self.real["diversity"], 1e-12),
            CHECKERBOARD: float(nyquist_power_fraction(images).mean()) / max(self.real["nyquist"], 1e-12),
        }
        self.writer.scalars(step, scores)
        self._feed(step, scores, samples=True)

    def _feed(self, step: int, obs: dict, samples: bool) -> None:
        self.last_step = max(self.last_step, step)
        for detector in self.detectors:
            if detector.on_samples == samples:
                event = detector.update(step, obs)
                if event is not None:
                    self._emit(event, detector.title)

    def _emit(self, event: Event, title: str) -> None:
        self.events.append(event)
        if event.state == "fired":
            log.warning(f"doctor: {title} at step {event.step} ({event.evidence}). {event.advice}")
            text = f"**{title}** at step {event.step}: {event.evidence}.\n\n{event.advice}"
        else:
            log.info(f"doctor: {title} cleared at step {event.step} ({event.evidence})")
            text = f"**{title}** cleared at step {event.step}: {event.evidence}."
        self.writer.text(f"doctor/{event.check}", text, event.step)
        self.save()

    # ----------------------------------------------------------------- state
    @property
    def active(self) -> list[str]:
        return [d.name for d in self.detectors if d.active]

    def stop_reason(self) -> str | None:
        """Why training should stop now (doctor.stop_on_collapse and D wins), or None."""
        if self.config.stop_on_collapse and "d_wins" in self.active:
            fired = next(e for e in reversed(self.events) if e.check == "d_wins")
            return f"D wins since step {fired.step} ({fired.evidence})"
        return None

    def save(self) -> None:
        """diagnoses.json: static findings, every event so far, the checks that ran and the last step seen."""
        write_diagnoses(
            self.run_dir,
            {
                "last_step": self.last_step,
                "checks": {d.name: d.title for d in self.detectors},
                "static": [f.as_dict() for f in self.static],
                "events": [e.as_dict() for e in self.events],
                "active": self.active,
                "reference": self.real,
                "thresholds": OmegaConf.to_container(self.config, resolve=True),
            },
        )
