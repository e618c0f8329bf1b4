"""The doctor's verdicts: one per check, from a run's diagnoses.json or a replay of its event files.

A run's verdicts come from its diagnoses.json (written live by the training loop). A run without
one (trained before the doctor existed) is diagnosed by replaying the detectors over its event files.
"""

from __future__ import annotations

import json
import textwrap
from dataclasses import dataclass
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from gan_lab.config.packaged import config_dir
from gan_lab.doctor.detectors import (
    CHECKERBOARD,
    DETECTORS,
    DIVERSITY,
    OBSERVED,
    build_detectors,
    set_checkerboard_advice,
)
from gan_lab.doctor.names import STATIC_CHECKS
from gan_lab.errors import UserError
from gan_lab.runs.layout import diagnoses_file, display_path, load_run_config, read_scalars

WIDTH = 110  # report lines wrap here
SEVERITY = {"ok": 0, "off": 0, "warning": 1, "failed": 2}


@dataclass
class Verdict:
    """The outcome of one check for one run."""

    check: str
    title: str
    status: str  # ok, warning, failed, off
    step: int | None = None
    detail: str = ""
    advice: str = ""


# ----------------------------------------------------------------- diagnoses
def doctor_config(cfg: DictConfig) -> DictConfig:
    """The run's doctor settings over the defaults (runs from before the doctor, or before a key was added)."""
    defaults = OmegaConf.load(config_dir() / "doctor" / "default.yaml")
    return OmegaConf.merge(defaults, cfg.doctor) if "doctor" in cfg else defaults


def grad_norm_lists(scalars: dict, net: str) -> dict[int, list[float]]:
    """step -> [norm of layer 00, 01, ...] from the grad_norm/<net>/NN_<layer> tags."""
    tags = sorted(t for t in scalars if t.startswith(f"grad_norm/{net}/"))
    by_step: dict[int, list[float]] = {}
    for tag in tags:
        for step, value in scalars[tag]:
            by_step.setdefault(step, []).append(value)
    return by_step


def advise_from_layers(detectors: list, cfg: DictConfig) -> None:
    """The checkerboard advice read from the run's G, built from its config (generic when it cannot be built)."""
    try:
        from gan_lab.models import build_models

        G, _ = build_models(cfg)
    except Exception:  # a run of another version or a model that no longer builds: the generic advice stays
        return
    set_checkerboard_advice(detectors, G)


def replay(scalars: dict, cfg: DictConfig) -> dict:
    """Run the detectors over the logged values of a run, as the training loop would have."""
    d = doctor_config(cfg)
    flipped = bool(cfg.get("tricks", {}).get("flip", False))
    detectors = build_detectors(d, cfg.loss.name, flipped)
    advise_from_layers(detectors, cfg)
    logged = {tag: dict(scalars.get(tag, [])) for tag in OBSERVED}
    samples = {tag: dict(scalars.get(tag, [])) for tag in (DIVERSITY, CHECKERBOARD)}
    norms = {net: grad_norm_lists(scalars, net) for net in ("G", "D")}
    steps = sorted(set(logged["loss/D"]) | set(samples[DIVERSITY]))
    events = []
    for step in steps:
        log_obs = {tag: values[step] for tag, values in logged.items() if step in values}
        log_obs.update({f"grad_norm/{net}": by_step[step] for net, by_step in norms.items() if step in by_step})
        sample_obs = {tag: values[step] for tag, values in samples.items() if step in values}
        for detector in detectors:
            obs = sample_obs if detector.on_samples else log_obs
            event = detector.update(step, obs) if obs else None
            if event is not None:
                events.append(event.as_dict())
    return {
        "last_step": steps[-1] if steps else 0,
        "checks": {d.name: d.title for d in detectors},
        "static": [],
        "events": events,
        "active": [d.name for d in detectors if d.active],
        "thresholds": OmegaConf.to_container(d, resolve=True),
    }


def load_diagnoses(run_dir: Path, scalars: dict) -> tuple[dict, bool]:
    """(diagnoses, replayed): the run's diagnoses.json, or a replay over its event files."""
    path = diagnoses_file(run_dir)
    if path.is_file():
        try:
            diag = json.loads(path.read_text())
        except json.JSONDecodeError as error:
            raise UserError(
                f"{display_path(path)} is not valid JSON ({error.msg}); delete it to replay the event files"
            ) from None
        problem = _shape_problem(diag)
        if problem:
            raise UserError(f"{display_path(path)} is not a diagnoses file ({problem}); delete it to replay the event files")
        return diag, False
    return replay(scalars, load_run_config(run_dir)), True


def _shape_problem(diag) -> str | None:
    """What in a parsed diagnoses.json does not have the shape the training loop writes, or None."""
    if not isinstance(diag, dict):
        return f"a JSON {type(diag).__name__}, not an object"
    if not isinstance(diag.get("checks", {}), dict):
        return "checks is not an object"
    fields = {"static": ("check", "message"), "events": ("check", "state", "step", "evidence", "advice")}
    for key, needed in fields.items():
        items = diag.get(key, [])
        if not isinstance(items, list) or not all(isinstance(i, dict) and set(needed) <= set(i) for i in items):
            return f"{key} is not a list of objects with {', '.join(needed)}"
    return None


def verdicts(diag: dict) -> tuple[list[Verdict], list[Verdict]]:
    """(checks before training, detectors during training), one verdict each."""
    static = []
    for check, title in STATIC_CHECKS.items():
        found = [f for f in diag.get("static", []) if f["check"] == check]
        detail = "\n".join(f["message"] for f in found)
        static.append(Verdict(check, title, "warning" if found else "ok", detail=detail))
    live = []
    for detector in DETECTORS:
        if detector.name not in diag.get("checks", {}):
            live.append(
                Verdict(detector.name, detector.title, "off", detail="not run (threshold null or not applicable)")
            )
            continue
        events = [e for e in diag.get("events", []) if e["check"] == detector.name]
        fired = [e for e in events if e["state"] == "fired"]
        if not fired:
            live.append(Verdict(detector.name, detector.title, "ok"))
        elif events[-1]["state"] == "fired":
            last = events[-1]
            live.append(Verdict(detector.name, detector.title, "failed", last["step"],
                                f"since step {last['step']}: {last['evidence']}", last["advice"]))  # fmt: skip
        else:
            spans = ", ".join(_spans(events))
            live.append(Verdict(detector.name, detector.title, "warning", fired[0]["step"],
                                f"steps {spans}: {fired[0]['evidence']}", fired[0]["advice"]))  # fmt: skip
    return static, live


def _spans(events: list[dict]) -> list[str]:
    """'150-300' for each fired..cleared episode."""
    spans, start = [], None
    for e in events:
        if e["state"] == "fired":
            start = e["step"]
        elif start is not None:
            spans.append(f"{start}-{e['step']}")
            start = None
    if start is not None:
        spans.append(f"{start}-")
    return spans


def overall(items: list[Verdict]) -> str:
    worst = max((SEVERITY[v.status] for v in items), default=0)
    return {0: "healthy", 1: "warnings", 2: "failed"}[worst]


# ----------------------------------------------------------------- text
def run_report(run_dir: Path, diag: dict, replayed: bool) -> str:
    """The report of one run: a verdict per check, with evidence and advice for those that fired."""
    static, live = verdicts(diag)
    source = "replayed from the event files (no diagnoses.json)" if replayed else "from diagnoses.json"
    lines = [f"gan-lab doctor: {display_path(run_dir)} (up to step {diag.get('last_step', 0)}, {source})"]
    for heading, items in (("before training", static), ("during training", live)):
        lines.append(heading)
        for v in items:
            head = f"  {v.status:<8} {v.title:<24} "
            paragraphs = [*v.detail.splitlines(), *([f"advice: {v.advice}"] if v.advice else [])]
            if not paragraphs:
                lines.append(head.rstrip())
            for i, text in enumerate(paragraphs):
                first = head if i == 0 else " " * len(head)
                lines.append(textwrap.fill(text, WIDTH, initial_indent=first, subsequent_indent=" " * len(head)))
    counts = {s: sum(v.status == s for v in static + live) for s in ("failed", "warning")}
    lines.append(f"verdict: {overall(static + live)} ({counts['failed']} failed, {counts['warning']} warnings)")
    return "\n".join(lines)


def job_line(name: str, diag: dict) -> str:
    """One line for a sweep job: its verdict and the checks that fired, with their first steps."""
    static, live = verdicts(diag)
    parts = []
    for status in ("failed", "warning"):
        named = [
            f"{v.title}" + (f" @{v.step}" if v.step is not None else "") for v in static + live if v.status == status
        ]
        if named:
            parts.append(f"{status}: {', '.join(named)}")
    return f"{name}  {overall(static + live)}" + (f"  ({'; '.join(parts)})" if parts else "")


# ----------------------------------------------------------------- command
def diagnose_run(run_dir: Path) -> tuple[dict, dict, bool]:
    """(scalars, diagnoses, replayed) of one run directory."""
    scalars = read_scalars(run_dir)
    diag, replayed = load_diagnoses(run_dir, scalars)
    return scalars, diag, replayed
