"""Tab completion: the real `gan-lab completion --query` entry point with COMP_LINE/COMP_POINT, each shell's
own format, the real bash, zsh and fish driving the installed scripts, speed, and the YAML cache."""

from __future__ import annotations

import os
import pty
import re
import resource
import select
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import REPO, run_cli

from gan_lab.cli import COMMANDS
from gan_lab.commands import completion_words
from gan_lab.config import completion_keys
from gan_lab.config.choices import KEY_CHOICES, UPSAMPLE_MODES
from gan_lab.runs import layout

DATASETS = ["dataset=cifar10", "dataset=cifar10_frog", "dataset=image_folder", "dataset=mnist", "dataset=shapes"]


@pytest.fixture(scope="module")
def cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("xdg-cache")


def query(line: str, cache: Path, shell: str = "zsh", cwd: Path = REPO, point: int | None = None) -> list[str]:
    """The real entry point, as the installed scripts call it."""
    env = {**os.environ, "COMP_LINE": line, "COMP_POINT": str(len(line) if point is None else point),
           "XDG_CACHE_HOME": str(cache), "COMP_WORDBREAKS": "\"'><=;|&(:"}  # fmt: skip
    result = subprocess.run([sys.executable, "-m", "gan_lab", "completion", "--query", "--shell", shell],
                            cwd=cwd, env=env, capture_output=True, text=True, timeout=60)  # fmt: skip
    assert result.returncode == 0 and result.stderr == "", result.stderr
    return result.stdout.splitlines()


def test_commands_after_gan_lab(cache):
    assert query("gan-lab ev", cache) == ["evaluate"]
    assert query("gan-lab ", cache) == list(COMMANDS)
    assert query("gan-lab completion ", cache) == ["bash", "zsh", "fish"]
    assert query("gan-lab train", cache, point=len("gan-lab tr")) == ["train"]  # only the text before the cursor


def test_groups_options_keys_and_choices_after_train(cache):
    assert query("gan-lab train dataset=", cache) == DATASETS
    assert query("gan-lab train dataset=", cache, shell="bash") == [d.split("=")[1] for d in DATASETS]
    presets = sorted(p.stem for p in (REPO / "conf" / "experiment").glob("*.yaml"))
    assert query("gan-lab train experiment=", cache) == [f"experiment={p}" for p in presets]
    assert query("gan-lab train model.up", cache) == ["model.upsample="]
    assert query("gan-lab train model.upsample=", cache) == [f"model.upsample={m}" for m in UPSAMPLE_MODES]
    assert query("gan-lab train model.upsample=nearest,b", cache) == ["model.upsample=nearest,bilinear"]
    assert query("gan-lab train -m model.upsample=nearest,b", cache, shell="bash") == ["nearest,bilinear"]
    assert query("gan-lab train trainer.compile=", cache) == ["trainer.compile=true", "trainer.compile=false"]
    assert query("gan-lab train hydra/launcher=s", cache) == ["hydra/launcher=sequential", "hydra/launcher=slurm"]
    model_keys = query("gan-lab train model.", cache)
    assert "model.kernel_size=" in model_keys and "model.filters=" in model_keys and "model.hidden_G=" not in model_keys
    assert query("gan-lab train model=mlp model.hid", cache) == ["model.hidden_D=", "model.hidden_G="]
    assert query("gan-lab train experiment=mlp_mnist_fixed model.hid", cache) == ["model.hidden_D=", "model.hidden_G="]
    assert query("OMP_NUM_THREADS=1 .venv/bin/gan-lab train model.up", cache) == ["model.upsample="]
    assert query("gan-lab train doctor.d_", cache) == ["doctor.d_overfits.", "doctor.d_wins."]  # nested keys one level at a time
    assert query("gan-lab train +model.ker", cache) == ["+model.kernel_size="]
    top = query("gan-lab train ", cache)
    assert {"dataset=", "dataset.", "model.", "experiment=", "resume=", "hydra."} <= set(top)


def test_hydra_flags_and_their_values(cache):
    flags = query("gan-lab train -", cache)
    assert {"-m", "--multirun", "--cfg", "-c", "--info", "--help"} <= set(flags)
    assert "--shell-completion" not in flags and "-sc" not in flags
    assert query("gan-lab train --cfg ", cache) == ["job", "hydra", "all"]


def test_paths_for_path_valued_keys(cache, tmp_path):
    (tmp_path / "faces").mkdir()
    (tmp_path / "faces.txt").write_text("a file")
    (tmp_path / "run").mkdir()
    assert query(f"gan-lab train dataset=image_folder dataset.path={tmp_path}/fa", cache) == [
        f"dataset.path={tmp_path}/faces/"  # a folder key: folders only
    ]
    assert query(f"gan-lab train resume={tmp_path}/", cache) == [
        f"resume={tmp_path}/{name}" for name in ("faces.txt", "faces/", "run/")
    ]
    assert query("gan-lab train resume=te", cache, cwd=REPO) == ["resume=tests/"]


@pytest.fixture
def outputs(tmp_path) -> Path:
    """A project folder with one run and one sweep of two jobs under outputs/."""
    run = tmp_path / "outputs" / "train" / "2026-01-01" / "10-00-00"
    sweep = tmp_path / "outputs" / "multirun" / "2026-01-02" / "11-00-00"
    for folder in (run, sweep / "0_kernel_size=3", sweep / "1_kernel_size=5"):
        layout.config_file(folder).parent.mkdir(parents=True)
        layout.config_file(folder).write_text("{}\n")
    (sweep / layout.MULTIRUN_FILE).write_text("{}\n")
    layout.step_checkpoint(run, 4).parent.mkdir()
    layout.step_checkpoint(run, 4).write_bytes(b"")
    (tmp_path / "outputs" / "train" / "2026-01-01" / "not-a-run").mkdir()
    return tmp_path


def test_run_and_sweep_directories_and_options_after_other_commands(cache, outputs):
    run, sweep = "outputs/train/2026-01-01/10-00-00/", "outputs/multirun/2026-01-02/11-00-00/"
    assert query("gan-lab doctor ", cache, cwd=outputs) == [sweep, run]
    assert query("gan-lab compare outputs/m", cache, cwd=outputs) == [sweep]
    assert query(f"gan-lab doctor {sweep}", cache, cwd=outputs) == [
        sweep, f"{sweep}0_kernel_size=3/", f"{sweep}1_kernel_size=5/"
    ]  # fmt: skip
    assert query("gan-lab board ", cache, cwd=outputs) == [sweep, run]
    assert query("gan-lab train resume=outputs/t", cache, cwd=outputs) == [f"resume={run}"]
    assert query("gan-lab doctor --", cache, cwd=outputs) == ["--no-plot", "--help"]
    generate = [f"{o}=" for o in completion_words.RUN_OPTIONS["generate"]]
    assert query(f"gan-lab generate {run} ", cache, cwd=outputs) == generate
    assert query(f"gan-lab generate {run} checkpoint=", cache, cwd=outputs) == ["checkpoint=step_000004.pt"]
    assert query(f"gan-lab interpolate {run} mode=", cache, cwd=outputs) == ["mode=slerp", "mode=lerp"]
    assert query(f"gan-lab evaluate {run} metrics.class", cache, cwd=outputs) == [
        "metrics.classifier=", "metrics.classifier_epochs=", "metrics.classifier_train="
    ]  # fmt: skip
    assert query(f"gan-lab evaluate {run} metrics.classifier=", cache, cwd=outputs, shell="bash") == ["true", "false"]


def test_completion_prints_each_shell_script_and_refuses_others():
    for shell in ("bash", "zsh", "fish"):
        result = run_cli("completion", shell)
        assert result.returncode == 0 and "gan-lab completion --query" in result.stdout
    result = run_cli("completion", "tcsh")
    assert result.returncode == 2 and "bash, zsh, fish" in result.stderr


def test_hydra_shell_completion_flag_points_to_gan_lab_completion(tmp_path):
    for flag in ("--shell-completion", "-sc"):
        result = run_cli("train", flag, "install=bash", cwd=tmp_path)
        assert result.returncode == 2, result.stdout + result.stderr
        assert len(result.stderr.strip().splitlines()) == 1 and "gan-lab completion bash" in result.stderr
    result = run_cli("-sc", "query=bash", cwd=tmp_path)  # what Hydra's script asks on each TAB
    assert result.returncode == 2 and "gan-lab completion bash" in result.stderr
    assert not (tmp_path / "outputs").exists()


# ------------------------------------------------------------------ speed


def test_query_imports_neither_torch_nor_hydra_and_is_fast(cache):
    env = {**os.environ, "COMP_LINE": "gan-lab train model.up", "COMP_POINT": "22", "XDG_CACHE_HOME": str(cache)}
    command = [sys.executable, "-X", "importtime", "-m", "gan_lab", "completion", "--query"]
    imported = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60).stderr
    modules = {line.split("|")[-1].strip().split(".")[0] for line in imported.splitlines() if "|" in line}
    assert "gan_lab" in modules and not modules & {"torch", "hydra", "omegaconf", "numpy"}
    cpu = []
    for _ in range(5):  # CPU time of the child: robust on a loaded machine, unlike wall time
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        out = subprocess.run(command[:1] + command[3:], env=env, capture_output=True, text=True, timeout=60).stdout
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        assert out == "model.upsample=\n"
    assert statistics.median(cpu) < 0.3, cpu


# ------------------------------------------------------------------ the YAML cache


def test_a_new_config_option_shows_up_and_an_unchanged_conf_reads_the_cache(tmp_path):
    conf, cache = tmp_path / "conf", tmp_path / "cache"
    shutil.copytree(REPO / "conf", conf)
    tree = completion_keys.config_tree(conf, cache)
    assert "model.new_knob" not in completion_keys.train_keys(tree, {})
    (cache_file,) = cache.glob("completion-*.json")
    # unchanged conf/: the cache is what is read (a marker written into it comes back)
    cache_file.write_text(cache_file.read_text().replace('"shapes"', '"marker"', 1))
    assert completion_keys.config_tree(conf, cache)["defaults"]["dataset"] == "marker"
    dcgan = conf / "model" / "dcgan.yaml"
    dcgan.write_text(dcgan.read_text() + "new_knob: 3\n")
    tree = completion_keys.config_tree(conf, cache)
    assert completion_keys.train_keys(tree, {})["model.new_knob"] == 3
    assert tree["defaults"]["dataset"] == "shapes"
    (conf / "dataset" / "celeba.yaml").write_text("name: image_folder\npath: ???\n")
    assert "celeba" in completion_keys.group_options(completion_keys.config_tree(conf, cache), "dataset")


# ------------------------------------------------------------------ the tables stay in step with the code


def test_completion_tables_match_the_commands_and_the_configs(tmp_path):
    from gan_lab.commands import evaluate, generate, interpolate, probe
    from gan_lab.data.labelled import LABELLED
    from gan_lab.metrics import settings

    for name, module in (("generate", generate), ("interpolate", interpolate), ("probe", probe)):
        assert tuple(o.key for o in module.OPTIONS) == completion_words.RUN_OPTIONS[name]
    assert completion_words.METRICS_NOT_ON_EVALUATE == tuple(f"metrics.{k}" for k in settings.TRAINING_ONLY)
    assert completion_words.OPTION_CHOICES["dataset"] == tuple(LABELLED)
    tree = completion_keys.config_tree(cache=tmp_path)
    metrics = [k for k in completion_keys.train_keys(tree, {}) if k.startswith("metrics.")]
    on_evaluate = [k for k in metrics if k not in completion_words.METRICS_NOT_ON_EVALUATE]
    assert [o.key for o in evaluate.options()] == [*completion_words.RUN_OPTIONS["evaluate"], *on_evaluate]
    every_key = set()
    for group in ("model", "dataset"):
        for option in completion_keys.group_options(tree, group):
            every_key |= set(completion_keys.train_keys(tree, {group: [option]}))
    assert set(KEY_CHOICES) <= every_key
    assert {k for k in completion_words.PATH_KEYS if "." in k and not k.startswith("hydra.")} <= every_key


# ------------------------------------------------------------------ the real shells


def need_shell(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        if os.environ.get("CI"):
            pytest.fail(f"{name} is not installed; CI installs it (apt-get install -y zsh fish)")
        pytest.skip(f"{name} is not installed (apt-get install -y {name}); CI=1 makes this a failure")
    return found


@pytest.fixture(scope="module")
def shell_env(tmp_path_factory, cache) -> dict:
    """PATH with a `gan-lab` that runs this checkout, and each shell's script written by gan-lab completion."""
    folder = tmp_path_factory.mktemp("shells")
    launcher = folder / "bin" / "gan-lab"
    launcher.parent.mkdir()
    launcher.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m gan_lab "$@"\n')
    launcher.chmod(0o755)
    env = {**os.environ, "PATH": f"{launcher.parent}:{os.environ['PATH']}", "XDG_CACHE_HOME": str(cache),
           "TERM": "dumb", "HOME": str(folder), "PS1": "$ "}  # fmt: skip
    for shell in ("bash", "zsh", "fish"):
        script = subprocess.run([str(launcher), "completion", shell], env=env, capture_output=True, text=True)
        (folder / f"gan-lab.{shell}").write_text(script.stdout)
        env[f"SCRIPT_{shell.upper()}"] = str(folder / f"gan-lab.{shell}")
    return env


def type_into(argv: list[str], keys: list[tuple[str, str]], env: dict) -> str:
    """Run an interactive shell on a pty, send each text and wait (10 s at most) for its expected pattern."""
    master, slave = pty.openpty()
    process = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env, cwd=REPO, start_new_session=True)
    os.close(slave)
    out = ""
    try:
        for text, expected in keys:
            os.write(master, text.encode())
            deadline = time.monotonic() + 10
            while not re.search(expected, out.replace("\r", ""), re.M) and time.monotonic() < deadline:
                if select.select([master], [], [], 0.1)[0]:
                    try:
                        out += os.read(master, 65536).decode(errors="replace")
                    except OSError:
                        break
            assert re.search(expected, out.replace("\r", ""), re.M), f"no {expected!r} in:\n{out}"
    finally:
        process.kill()
        process.wait()
        os.close(master)
    return out


def completes(shell_argv: list[str], setup: str, env: dict) -> None:
    """TAB completes `model.up` in place (the completed line is echoed), and lists the five datasets."""
    type_into(
        shell_argv,
        [(f"{setup}; echo READY\n", r"^READY"),
         ("gan-lab train model.up\t", r"model\.upsample="),
         ("\x01echo RESULT: \n", r"^RESULT: gan-lab train model\.upsample=$"),
         ("gan-lab train dataset=\t\t", r"image_folder(.|\n)*shapes|shapes(.|\n)*image_folder"),
         ("\x15", "")],
        env,
    )  # fmt: skip


def test_bash_completes_through_its_installed_function(shell_env):
    bash = need_shell("bash")
    completes([bash, "--norc", "--noprofile", "-i"], f"source {shell_env['SCRIPT_BASH']}", shell_env)


def test_zsh_completes_through_its_installed_function(shell_env):
    zsh = need_shell("zsh")
    completes([zsh, "-f", "-i"], f"bindkey -e; source {shell_env['SCRIPT_ZSH']}", shell_env)  # -f: no rc files


def test_fish_completes_through_its_installed_function(shell_env):
    fish = need_shell("fish")

    def complete(line: str) -> list[str]:
        command = f"source {shell_env['SCRIPT_FISH']}; complete -C '{line}'"
        result = subprocess.run(
            [fish, "--no-config", "-c", command], env=shell_env, capture_output=True, text=True, timeout=60
        )
        assert result.returncode == 0, result.stderr
        return result.stdout.splitlines()

    assert complete("gan-lab train model.up") == ["model.upsample="]
    assert complete("gan-lab train dataset=") == DATASETS
    assert complete("gan-lab ev") == [f"evaluate\t{COMMANDS['evaluate'][1]}"]  # with its description
