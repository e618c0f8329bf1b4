"""trainer.time_limit: a run stops cleanly at its budget (grid, checkpoint, summary "time_limit") and resumes."""

from __future__ import annotations

import json

import pytest
from conftest import TINY, run_cli, train_tiny

from gan_lab.config.validate import duration_seconds
from gan_lab.errors import UserError
from gan_lab.sweeps.index import run_row


@pytest.mark.parametrize(
    "value, seconds",
    [(90, 90.0), (0.5, 0.5), ("45", 45.0), ("90s", 90.0), ("30m", 1800.0), ("2h", 7200.0), ("1h30m", 5400.0),
     (None, None)],
)  # fmt: skip
def test_durations_read_as_seconds(value, seconds):
    assert duration_seconds("trainer.time_limit", value) == seconds


@pytest.mark.parametrize("value", ["soon", "0", 0, -5, "1d", "m", float("nan"), float("inf"), True])
def test_a_bad_duration_names_the_key_and_the_forms_allowed(value):
    with pytest.raises(UserError, match=r"trainer.time_limit=.* is not a duration; use seconds .* 30m, 2h, 1h30m"):
        duration_seconds("trainer.time_limit", value)


def test_a_run_stops_at_its_budget_and_resume_extends_it(tmp_path):
    run = tmp_path / "run"
    # 1 ms: the budget is spent by the first step, so the next one is the last: it logs, samples and checkpoints.
    result = train_tiny(run, "trainer.steps=40", "trainer.time_limit=0.001", "trainer.log_every=20")
    summary = json.loads((run / "summary.json").read_text())
    steps = summary["steps"]
    assert summary["status"] == "time_limit" and steps in (1, 2)  # 1 only if the process stalled before step 1
    assert summary["checkpoint"] == f"checkpoints/step_{steps:06d}.pt" and (run / summary["checkpoint"]).is_file()
    assert summary["last_grid"] == f"samples/step_{steps:06d}.png" and summary["final"]["loss_D"] is not None
    assert f"trainer.time_limit=0.001 reached at step {steps}/40" in result.stderr + result.stdout
    assert run_row(run)["status"] == "time_limit"  # a finished run for the sweep index and compare

    resumed = run_cli("train", f"resume={run}", "trainer.time_limit=null", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    summary = json.loads((run / "summary.json").read_text())
    assert summary["status"] == "ok" and summary["steps"] == 40


def test_a_bad_time_limit_fails_before_anything_is_written(tmp_path):
    result = run_cli("train", *TINY, "trainer.time_limit=soon", cwd=tmp_path)
    assert result.returncode == 2 and "trainer.time_limit=soon is not a duration" in result.stderr
    assert not (tmp_path / "outputs").exists()
