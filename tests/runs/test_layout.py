"""Reading a run directory back: config, checkpoints, summary, scalars."""

from __future__ import annotations

import pytest

from gan_lab.errors import UserError
from gan_lab.runs.layout import (
    checkpoints,
    is_run_dir,
    is_sweep_dir,
    job_dirs,
    latest_checkpoint,
    load_run_config,
    load_summary,
    read_scalars,
    require_run_dir,
)


def test_reads_a_finished_run(tiny_run):
    assert is_run_dir(tiny_run) and not is_sweep_dir(tiny_run)
    assert load_run_config(tiny_run).model.filters == 8
    assert latest_checkpoint(tiny_run).name == "step_000004.pt" and len(checkpoints(tiny_run)) == 1
    assert load_summary(tiny_run)["steps"] == 4
    scalars = read_scalars(tiny_run)
    assert [step for step, _ in scalars["loss/D"]] == [2, 4]


def test_sweep_dirs_sort_by_job_number(tmp_path):
    for name in ["10_b", "2_a", "1_c"]:
        (tmp_path / name / ".hydra").mkdir(parents=True)
        (tmp_path / name / ".hydra" / "config.yaml").write_text("{}\n")
    assert [p.name for p in job_dirs(tmp_path)] == ["1_c", "2_a", "10_b"]
    assert is_sweep_dir(tmp_path)


def test_not_a_run_dir_is_one_line(tmp_path):
    with pytest.raises(UserError, match="not a gan-lab run directory"):
        require_run_dir(tmp_path)
    with pytest.raises(UserError, match="does not exist"):
        require_run_dir(tmp_path / "nope")
    (tmp_path / ".hydra").mkdir()
    (tmp_path / ".hydra" / "config.yaml").write_text("{}\n")
    with pytest.raises(UserError, match="no checkpoints"):
        latest_checkpoint(tmp_path)
