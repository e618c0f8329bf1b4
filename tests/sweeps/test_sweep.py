"""Real sweeps through the CLI: the index, TensorBoard run names and HParams, compare, launchers."""

from __future__ import annotations

import csv
import json
import re
import os
import shutil
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import TINY, run_cli
from omegaconf import OmegaConf
from PIL import Image
from tensorboard.backend.event_processing.event_multiplexer import EventMultiplexer
from tensorboard.plugins.hparams import api_pb2, metadata

from gan_lab.commands.compare import figure_size, rank
from gan_lab.runs.layout import job_dirs
from gan_lab.sweeps.index import run_row

TINY_SWEPT = [o for o in TINY if not o.startswith("model.filters")]
BAD = "model.kernel_size=9 is not allowed"  # kernel sizes run from 2 to 7
NAMES = [f"{n}_kernel_size={k},filters={f}" for n, (k, f) in enumerate((k, f) for k in (3, 4, 9) for f in (4, 8))]


def only_sweep(cwd: Path) -> Path:
    sweeps = list((cwd / "outputs" / "multirun").glob("*/*"))
    assert len(sweeps) == 1, sweeps
    return sweeps[0]


def read_index(sweep: Path) -> list[dict]:
    with (sweep / "sweep.csv").open() as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def sweep(tmp_path_factory) -> tuple[Path, object]:
    """A 3 x 2 sweep whose kernel_size=9 jobs cannot be built: 4 train, 2 fail."""
    cwd = tmp_path_factory.mktemp("sweep")
    result = run_cli("train", "-m", "model.kernel_size=3,4,9", "model.filters=4,8", *TINY_SWEPT, cwd=cwd)
    assert result.returncode == 0, result.stdout + result.stderr
    return only_sweep(cwd), result


def table_of(stdout: str) -> list[dict[str, str]]:
    """compare's printed table as rows of {column header: cell}."""
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("#  "))
    head = re.split(r"\s{2,}", lines[start].strip())
    rows = []
    for line in lines[start + 1:]:
        if not line.strip():
            break
        rows.append(dict(zip(head, re.split(r"\s{2,}", line.strip()))))
    return rows


def test_a_failing_job_is_recorded_and_the_sweep_goes_on(sweep):
    root, result = sweep
    assert sorted(p.name for p in root.iterdir() if p.is_dir()) == NAMES
    rows = read_index(root)  # ranked by the quality evaluation each job ends with, failed jobs last
    assert sorted(r["name"] for r in rows) == [n.split("_", 1)[1] for n in NAMES]
    assert [r["status"] for r in rows] == ["ok"] * 4 + ["failed"] * 2
    assert [r["rank"] for r in rows] == ["1", "2", "3", "4", "", ""]
    fids = [float(r["metric.fid"]) for r in rows[:4]]
    assert fids == sorted(fids) and all(r["features"] for r in rows[:4])
    assert 0 <= float(rows[0]["metric.precision"]) <= 1 and 0 <= float(rows[0]["metric.recall"]) <= 1
    assert all(r["error"].startswith(BAD) for r in rows[4:])
    for row in rows[:4]:
        assert row["steps"] == "4" and float(row["loss_D"]) > 0 and float(row["img_per_s"]) > 0
        assert float(row["wall_time_s"]) > 0 and row["error"] == ""
    assert sorted(r["model.kernel_size"] for r in rows) == ["3", "3", "4", "4", "9", "9"]
    index = json.loads((root / "sweep.json").read_text())
    assert [job["status"] for job in index["jobs"]] == [r["status"] for r in rows]
    assert "sweep done: 6 jobs (4 ok, 2 failed)" in result.stdout
    assert f"error: {BAD}" in result.stdout  # the failing job's one line, not a traceback
    assert "Traceback" not in result.stdout + result.stderr


def test_tensorboard_shows_each_job_as_a_run_named_by_its_overrides(sweep):
    root, _ = sweep
    runs = EventMultiplexer().AddRunsFromDirectory(str(root))
    runs.Reload()
    assert sorted(runs.Runs()) == NAMES  # no stray add_hparams folders
    hparams = runs.PluginRunToTagToContent("hparams")
    for name in NAMES:
        start = metadata.parse_session_start_info_plugin_data(hparams[name][metadata.SESSION_START_INFO_TAG])
        kernel, filters = (float(part.split("=")[1]) for part in name.split("_", 1)[1].split(","))
        assert {k: v.number_value for k, v in start.hparams.items()} == {"kernel_size": kernel, "filters": filters}
        scalars = runs.GetAccumulator(name).Tags()["scalars"]
        if kernel == 9:  # could not be built: no training scalars, and its session ended as a failure
            assert "loss/G" not in scalars
            end = metadata.parse_session_end_info_plugin_data(hparams[name][metadata.SESSION_END_INFO_TAG])
            assert end.status == api_pb2.STATUS_FAILURE
        else:
            assert {"loss/G", "loss/D", "prob/D_real", "prob/D_fake"} <= set(scalars)


def test_hparams_dashboard_lists_every_job_with_final_metrics(sweep):
    """A real TensorBoard server's HParams API: one session per job, metrics from the run's own scalars."""
    from tensorboard import program

    root, _ = sweep
    board = program.TensorBoard()
    board.configure(argv=[None, "--logdir", str(root), "--port", "0", "--host", "localhost", "--load_fast", "false"])
    url = board.launch()
    request = {
        "experimentName": "",
        "allowedStatuses": ["STATUS_SUCCESS", "STATUS_FAILURE", "STATUS_UNKNOWN", "STATUS_RUNNING"],
        "colParams": [],
        "startIndex": 0,
        "sliceSize": 100,
    }
    groups = []
    for _ in range(40):  # the server loads the event files in the background
        post = urllib.request.Request(
            url + "data/plugin/hparams/session_groups",
            data=json.dumps(request).encode(),
            headers={"Content-Type": "application/json"},
        )
        groups = json.loads(urllib.request.urlopen(post, timeout=10).read()).get("sessionGroups", [])
        if len(groups) == 6 and all(g["metricValues"] for g in groups if "9" not in str(g["hparams"]["kernel_size"])):
            break
        time.sleep(0.5)
    by_name = {g["name"]: g for g in groups}
    assert sorted(by_name) == NAMES
    for name, group in by_name.items():
        status = group["sessions"][0]["status"]
        tags = {m["name"]["tag"] for m in group["metricValues"]}
        if "kernel_size=9" in name:
            assert status == "STATUS_FAILURE"
        else:
            assert status == "STATUS_SUCCESS" and {"loss/D", "loss/G", "perf/img_per_s"} <= tags
            assert {"metrics/fid", "metrics/kid", "metrics/precision", "metrics/recall"} <= tags  # the quality columns


def test_compare_ranks_the_sweep_and_draws_a_row_per_run(sweep):
    root, _ = sweep
    result = run_cli("compare", str(root), "--by", "loss_G")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("ranked by loss_G, lowest first")
    table = table_of(result.stdout)
    assert [row["#"] for row in table] == ["1", "2", "3", "4", "5", "6"]
    losses = [float(row["loss G"]) for row in table[:4]]
    assert losses == sorted(losses) and all(row["FID"] != "-" for row in table[:4])  # quality shown beside
    assert {row["run"] for row in table[4:]} == {"kernel_size=9,filters=4", "kernel_size=9,filters=8"}
    assert all(row["status"] == "failed" for row in table[4:])
    png = root / "compare.png"
    assert f"wrote {png} (6 rows)" in result.stdout
    assert Image.open(png).size == figure_size(6)

    ranked = rank([run_row(job) for job in job_dirs(root)], "img_per_s", None)
    speeds = [row["img_per_s"] for row in ranked[:4]]
    assert speeds == sorted(speeds, reverse=True) and ranked[4]["status"] == "failed"  # higher throughput first


def test_compare_ranks_by_sample_quality_by_default_and_names_the_features(sweep):
    root, _ = sweep
    result = run_cli("compare", str(root))
    assert result.returncode == 0, result.stdout + result.stderr
    first, second = result.stdout.splitlines()[:2]
    assert first.startswith("ranked by fid, lowest first") and second.startswith("features: ")
    table = table_of(result.stdout)
    fids = [float(row["FID"]) for row in table[:4]]
    assert fids == sorted(fids) and [row["status"] for row in table[4:]] == ["failed", "failed"]


def test_compare_names_what_it_cannot_use(sweep, tmp_path):
    root, _ = sweep
    unknown = run_cli("compare", str(root), "--by", "fidd")
    assert unknown.returncode == 2 and "--by fidd is not a column" in unknown.stderr and "loss_G" in unknown.stderr
    missing = run_cli("compare", str(tmp_path / "nope"))
    assert missing.returncode == 2 and "does not exist" in missing.stderr
    assert len(missing.stderr.strip().splitlines()) == 1


def test_compare_works_on_single_runs(sweep, tmp_path):
    """Runs that are not jobs of one sweep (no job.json) are labelled by the overrides that differ."""
    root, _ = sweep
    runs = []
    for name in NAMES[:2]:  # kernel_size=3 with filters=4 and 8, copied as two single runs
        runs.append(shutil.copytree(root / name, tmp_path / name.split("_")[0]))
        (runs[-1] / "job.json").unlink()
    out = tmp_path / "side_by_side.png"
    result = run_cli("compare", *map(str, runs), "--out", str(out))
    assert result.returncode == 0, result.stdout + result.stderr
    assert {row["run"] for row in table_of(result.stdout)} == {"filters=4", "filters=8"}
    assert Image.open(out).size == figure_size(2)


@pytest.mark.slow
def test_local_parallel_launcher_gives_the_same_index(sweep, tmp_path):
    """2 workers, each job in a fresh process: the same rows as the sequential sweep."""
    root, _ = sweep
    # Two made-up GPU ids: the jobs train on the CPU (TINY), but each is handed its own "GPU"
    cmd = [
        "-m",
        "hydra/launcher=local_parallel",
        "hydra.launcher.workers=2",
        "hydra.launcher.gpus=[5,7]",
        "model.kernel_size=3,9",
        "model.filters=4,8",
    ]
    result = run_cli("train", *cmd, *TINY_SWEPT, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "4 jobs, 2 at a time, each in a fresh process (2 GPUs, one per job)" in result.stdout
    parallel = only_sweep(tmp_path)
    sequential = {r["name"]: r for r in read_index(root)}
    rows = sorted(read_index(parallel), key=lambda r: int(r["job"]))
    assert [r["name"] for r in rows] == [
        "kernel_size=3,filters=4",
        "kernel_size=3,filters=8",
        "kernel_size=9,filters=4",
        "kernel_size=9,filters=8",
    ]
    for row in rows:
        twin = sequential[row["name"]]
        assert (row["status"], row["error"]) == (twin["status"], twin["error"])
        for key in ("loss_D", "loss_G", "prob_D_real", "prob_D_fake"):  # 1 thread per job here, so not bit-equal
            assert float(row[key] or 0) == pytest.approx(float(twin[key] or 0), rel=1e-2, abs=1e-4)
    jobs = [json.loads((parallel / f"{n}_{r['name']}" / "job.json").read_text()) for n, r in enumerate(rows)]
    assert len({job["pid"] for job in jobs}) == 4  # a fresh process per job
    first, second = jobs[0], jobs[1]
    assert second["started"] < first["started"] + first["job_time_s"]  # two ran at the same time
    assert {first["gpus"], second["gpus"]} == {"5", "7"}  # on different GPUs
    assert {job["gpus"] for job in jobs} <= {"5", "7"}
    sequential_pids = {json.loads((root / n / "job.json").read_text())["pid"] for n in NAMES}
    assert len(sequential_pids) == 1


@pytest.mark.slow
def test_submitit_local_executor_runs_the_sweep(tmp_path):
    """The SLURM path without SLURM: hydra-submitit-launcher's local executor, a subprocess per job."""
    cmd = ["-m", "hydra/launcher=submitit_local", "hydra.launcher.timeout_min=5", "model.kernel_size=3,9"]
    result = run_cli("train", *cmd, *TINY, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    root = only_sweep(tmp_path)
    rows = read_index(root)
    assert [(r["name"], r["status"]) for r in rows] == [("kernel_size=3", "ok"), ("kernel_size=9", "failed")]
    assert rows[1]["error"].startswith(BAD)
    assert list((root / ".submitit").iterdir())  # submitit's own job folders


def test_launcher_presets_compose(tmp_path):
    def launcher(*overrides: str) -> dict:
        result = run_cli("train", *overrides, "--cfg", "hydra", "-p", "hydra.launcher", cwd=tmp_path)
        assert result.returncode == 0, result.stdout + result.stderr
        return OmegaConf.to_container(OmegaConf.create(result.stdout))

    slurm = launcher("hydra/launcher=slurm", "hydra.launcher.partition=gpu", "hydra.launcher.gpus_per_node=2")
    assert slurm["_target_"] == "hydra_plugins.gan_lab_launcher.slurm.SlurmLauncher"
    assert (slurm["partition"], slurm["gpus_per_node"], slurm["timeout_min"]) == ("gpu", 2, 240)
    assert (slurm["signal_delay_s"], slurm["max_num_timeout"]) == (120, 3)  # requeued after a time limit
    assert slurm["submitit_folder"].endswith(".submitit/%j")
    parallel = launcher("hydra/launcher=local_parallel", "hydra.launcher.workers=3")
    assert parallel["_target_"].endswith("LocalParallelLauncher") and parallel["workers"] == 3
    assert launcher("hydra/launcher=sequential")["_target_"].endswith("BasicLauncher")


def test_slurm_preset_reaches_the_sbatch_script(tmp_path, monkeypatch):
    """The real SlurmLauncher, stopped at submission: partition, time and GPUs land in #SBATCH lines."""
    import submitit
    from hydra import compose, initialize_config_dir
    from hydra.core.hydra_config import HydraConfig
    from hydra.utils import instantiate

    from gan_lab.config.packaged import config_dir

    bin_dir = tmp_path / "bin"  # submitit looks for srun before it writes anything
    bin_dir.mkdir()
    (bin_dir / "srun").write_text("#!/bin/sh\nexit 0\n")
    (bin_dir / "srun").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    submitted = {}

    class Submitted(Exception):
        pass

    def capture(executor, *args):
        submitted["script"] = executor._executor._make_submission_file_text("python -m job", "uid")
        raise Submitted

    monkeypatch.setattr(submitit.AutoExecutor, "map_array", capture)
    overrides = [
        "hydra/launcher=slurm",
        "hydra.launcher.partition=gpu",
        "hydra.launcher.timeout_min=90",
        "hydra.launcher.gpus_per_node=2",
        f"hydra.sweep.dir={tmp_path / 'sweep'}",
    ]
    with initialize_config_dir(config_dir=str(config_dir()), version_base="1.3"):
        cfg = compose("train", overrides=overrides, return_hydra_config=True)
    HydraConfig.instance().set_config(cfg)
    try:
        launcher = instantiate(cfg.hydra.launcher)
        launcher.config = cfg
        with pytest.raises(Submitted):
            launcher.launch([["model.filters=16"]], initial_job_idx=0)
    finally:
        HydraConfig.instance().cfg = None
    script = submitted["script"]
    for line in ("--partition=gpu", "--time=90", "--gpus-per-node=2", "--cpus-per-task=8", "--mem=32GB", "--signal=USR2@120"):
        assert f"#SBATCH {line}" in script
    assert f"{tmp_path / 'sweep'}/.submitit/" in script
