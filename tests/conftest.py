"""Shared helpers: run the real CLI (in this process, or in a subprocess), and one small trained run for read-back tests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

if os.environ.get("PYTEST_XDIST_WORKER"):
    # The workers (pyproject's -n) share the cores: one thread each, here (torch reads this when first
    # imported, after this file) and in the CLIs and torchrun workers they start.
    os.environ.setdefault("OMP_NUM_THREADS", "1")

# A tiny but complete run: every output of a real run, in a few seconds on a CPU.
TINY = [
    "dataset.num_images=128",
    "dataset.image_size=16",
    "model.filters=8",
    "model.latent_dim=16",
    "model.ema_decay=null",  # G itself is what the read-back tests load (EMA has its own tests)
    "trainer.batch_size=16",
    "trainer.steps=4",
    "trainer.log_every=2",
    "trainer.sample_every=2",
    "trainer.num_samples=16",
    "metrics.sweep_samples=256",  # a sweep job's closing quality evaluation, at test size
    "trainer.device=cpu",
]


def run_cli(
    *args: str, cwd: Path | None = None, env: dict | None = None, timeout: float = 300, subprocess_: bool = False
):
    """`gan-lab <args>`; returns a CompletedProcess (text output).

    By default the real entry point runs in this process (one torch import for the whole suite); with
    subprocess_=True it runs as `python -m gan_lab` in its own process, for what only a process shows
    (signals, exit on a real terminal, the package as installed).
    """
    if not subprocess_:
        return run_in_process(list(args), cwd or REPO, env or {})
    full_env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    full_env.pop("HYDRA_FULL_ERROR", None)
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "gan_lab", *args],
        cwd=cwd or REPO,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def run_in_process(args: list[str], cwd: Path, env: dict) -> subprocess.CompletedProcess:
    """cli.main(args) in cwd with env, its output captured and every process-wide setting it changes restored."""
    import contextlib
    import io
    import logging
    import traceback

    import torch

    from gan_lab.cli import main

    out, err = io.StringIO(), io.StringIO()
    root = logging.getLogger()
    saved = {
        "cwd": os.getcwd(), "argv": list(sys.argv), "environ": dict(os.environ),
        "handlers": list(root.handlers), "level": root.level,
        "loggers": {name: (lg.handlers[:], lg.level, lg.propagate, lg.disabled)
                    for name, lg in logging.Logger.manager.loggerDict.items() if isinstance(lg, logging.Logger)},
        "deterministic": torch.are_deterministic_algorithms_enabled(), "threads": torch.get_num_threads(),
        "rng": torch.get_rng_state(),
    }  # fmt: skip
    os.environ.pop("HYDRA_FULL_ERROR", None)
    os.environ.update(env)
    os.chdir(cwd)
    code = 0
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(args) or 0
            except SystemExit as exit_:
                code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
            except Exception:  # what the interpreter would print and exit with
                traceback.print_exc()
                code = 1
    finally:
        os.chdir(saved["cwd"])
        sys.argv[:] = saved["argv"]
        os.environ.clear()
        os.environ.update(saved["environ"])
        for handler in root.handlers:  # the run's log file and console handlers: flushed and closed
            if handler not in saved["handlers"]:
                handler.close()
        root.handlers[:] = saved["handlers"]
        root.setLevel(saved["level"])
        for name, (handlers, level, propagate, disabled) in saved["loggers"].items():
            logger = logging.getLogger(name)
            logger.handlers[:], logger.level, logger.propagate, logger.disabled = handlers, level, propagate, disabled
        torch.use_deterministic_algorithms(saved["deterministic"])
        torch.set_num_threads(saved["threads"])
        torch.set_rng_state(saved["rng"])
    return subprocess.CompletedProcess(["gan-lab", *args], code, out.getvalue(), err.getvalue())


def train_tiny(run_dir: Path, *overrides: str, **kwargs):
    """A tiny real `gan-lab train` into run_dir; fails the test with the output if it fails."""
    result = run_cli("train", *TINY, *overrides, f"hydra.run.dir={run_dir}", **kwargs)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory) -> Path:
    """One finished tiny run shared by the tests that only read its outputs."""
    run_dir = tmp_path_factory.mktemp("tiny") / "run"
    train_tiny(run_dir)
    return run_dir


def _schema_coverage() -> dict:
    """key -> {class of bad value: cases} from the schema property test, if it ran in this process."""
    module = sys.modules.get("test_schema_properties") or sys.modules.get("config.test_schema_properties")
    return getattr(module, "COVERAGE", None) or {}


WORKER_COVERAGE: dict = {}  # what the xdist workers' schema property tests covered, gathered as each ends


def pytest_sessionfinish(session):
    if hasattr(session.config, "workeroutput"):  # an xdist worker: hand the coverage to the main process
        session.config.workeroutput["schema_coverage"] = json.dumps(_schema_coverage())


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    for key, kinds in json.loads(getattr(node, "workeroutput", {}).get("schema_coverage", "{}")).items():
        counts = WORKER_COVERAGE.setdefault(key, {})
        for kind, count in kinds.items():
            counts[kind] = counts.get(kind, 0) + count


def pytest_terminal_summary(terminalreporter):
    """The schema property test's coverage: cases per key and per class of bad value (when it ran)."""
    coverage = _schema_coverage() or WORKER_COVERAGE
    if not coverage:
        return
    per_key = {key: sum(kinds.values()) for key, kinds in coverage.items()}
    classes: dict[str, int] = {}
    for kinds in coverage.values():
        for kind, count in kinds.items():
            classes[kind] = classes.get(kind, 0) + count
    fewest = min(per_key, key=per_key.get)
    terminalreporter.write_sep("-", "schema property test coverage")
    terminalreporter.write_line(
        f"{len(per_key)} keys and options, {sum(per_key.values())} hostile cases; fewest: {per_key[fewest]} ({fewest})"
    )
    terminalreporter.write_line("by class: " + ", ".join(f"{kind} {n}" for kind, n in sorted(classes.items())))
