"""Sweep job names: swept overrides only, short keys, seed left out."""

from __future__ import annotations

from gan_lab.sweeps.job_names import job_name, short_keys, sweep_overrides, swept_params

SWEEP = ["model.kernel_size=3,4,5", "model.filters=16,32", "trainer.steps=30"]


def test_only_swept_keys_name_a_job_in_command_line_order():
    job = ["model.kernel_size=5", "model.filters=64", "trainer.steps=30"]
    params = swept_params(job, SWEEP)
    assert params == {"model.kernel_size": "5", "model.filters": "64"}
    assert job_name(params) == "kernel_size=5,filters=64"


def test_seed_is_left_out_unless_it_is_all_that_was_swept():
    sweep = ["model.filters=16,32", "trainer.seed=0,1"]
    assert job_name(swept_params(["model.filters=16", "trainer.seed=1"], sweep)) == "filters=16"
    assert job_name(swept_params(["trainer.seed=1"], ["trainer.seed=0,1"])) == "seed=1"


def test_clashing_short_keys_stay_full_and_groups_and_paths_are_handled():
    assert short_keys(["optim.lr_G", "model.filters", "loss.filters"]) == {
        "optim.lr_G": "lr_G",
        "model.filters": "model.filters",
        "loss.filters": "loss.filters",
    }
    params = swept_params(["tricks=soft", "+model.extra=1", "dataset.path=/data/x"], None, exclude={"dataset.path"})
    assert params == {"tricks": "soft", "model.extra": "1"}  # no multirun.yaml: every override counts as swept
    assert job_name({"tricks": "a/b"}) == "tricks=a_b"  # a slash would nest folders
    assert job_name({}) == "defaults"


def test_sweeper_values_that_are_not_on_the_command_line_count_as_swept():
    # e.g. a search sweeper picks optim.lr_G itself: it is not a plain command-line override
    params = swept_params(["optim.lr_G=0.0003", "trainer.steps=30"], ["trainer.steps=30"])
    assert job_name(params) == "lr_G=0.0003"


def test_sweep_overrides_read_from_multirun_yaml(tmp_path):
    assert sweep_overrides(tmp_path) is None
    (tmp_path / "multirun.yaml").write_text("hydra:\n  overrides:\n    task:\n    - model.filters=16,32\n")
    assert sweep_overrides(tmp_path) == ["model.filters=16,32"]
