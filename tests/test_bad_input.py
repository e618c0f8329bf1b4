"""Every kind of bad input gets one line naming the problem, a non-zero exit and no traceback.

Each case runs the real CLI in a subprocess. `{tmp}` in an argument is the case's scratch folder, and
`{run}` a finished tiny run copied there, so cases can point at files they prepared.
"""

from __future__ import annotations

import json
import shutil
import socket
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
from conftest import TINY, run_cli
from PIL import Image

FOLDER = ["dataset=image_folder", "dataset.path={tmp}/images", "dataset.image_size=16", *TINY[2:]]


def _png_header_only(path: Path, width: int, height: int) -> None:
    """A PNG whose header claims width x height pixels: what a decompression bomb looks like to PIL."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b""))


def _images(folder: Path, good: int = 0, corrupt: int = 0, bomb: bool = False) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for i in range(good):
        Image.fromarray(rng.integers(0, 256, (20, 20, 3), dtype=np.uint8)).save(folder / f"good{i}.png")
    for i in range(corrupt):
        (folder / f"bad{i}.jpg").write_bytes(b"\xff\xd8\xff\xe0 truncated jpeg")
    if bomb:
        _png_header_only(folder / "huge.png", 40_000, 40_000)


def _prepare(kind: str, tmp: Path, run: Path | None) -> None:
    """Files a case needs in its scratch folder."""
    if kind == "empty_dir":
        (tmp / "images").mkdir()
    elif kind == "a_file":
        (tmp / "afile").write_text("not a folder")
    elif kind == "corrupt_only":
        _images(tmp / "images", corrupt=3)
    elif kind == "bomb":
        _images(tmp / "images", good=2, bomb=True)
    elif kind == "few_images":
        _images(tmp / "images", good=5)
    elif kind == "empty_data_dir":
        (tmp / "data").mkdir()
    elif kind in ("run", "run_no_checkpoints", "truncated_checkpoint", "not_a_checkpoint"):
        shutil.copytree(run, tmp / "run")
        checkpoint = sorted((tmp / "run" / "checkpoints").glob("step_*.pt"))[-1]
        if kind == "run_no_checkpoints":
            shutil.rmtree(tmp / "run" / "checkpoints")
        elif kind == "truncated_checkpoint":
            checkpoint.write_bytes(checkpoint.read_bytes()[:1000])
        elif kind == "not_a_checkpoint":
            checkpoint.write_bytes(b"hello")
    elif kind == "plain_dir":
        (tmp / "plain").mkdir()
    elif kind == "one_image":
        _images(tmp / "images", good=1)
    elif kind == "text_files":
        (tmp / "images").mkdir()
        (tmp / "images" / "notes.txt").write_text("not an image")
    elif kind == "bad_diagnoses":
        shutil.copytree(run, tmp / "run")
        (tmp / "run" / "diagnoses.json").write_text('{"checks": {}, "static": [], "events": [3, 4]}')


# (id, files to prepare, arguments after `train`, exit code, fragments the one stderr line must hold)
CASES = [
    # config values
    ("unknown_dataset", None, ["dataset=cifra10"], 2, ["dataset=cifra10 is not a dataset option", "did you mean cifar10?"]),
    ("unknown_model", None, ["model=dcgna"], 2, ["model=dcgna is not a model option", "did you mean dcgan?", "dcgan, dlwp, mlp, resnet"]),
    ("misspelled_key", None, ["model.kernal_size=5"], 2, ["model.kernal_size is not a config key", "did you mean model.kernel_size?"]),
    ("misspelled_group_key", None, ["trainer.step=5"], 2, ["trainer.step is not a config key", "did you mean trainer.steps?"]),
    ("kernel_too_big", None, ["model.kernel_size=9"], 2, ["model.kernel_size=9", "2, 3, 4, 5, 6, 7"]),
    ("unknown_upsample", None, ["model.upsample=bilinearr"], 2, ["model.upsample=bilinearr", "did you mean bilinear?"]),
    ("zero_steps", None, ["trainer.steps=0"], 2, ["trainer.steps=0 must be an integer >= 1"]),
    ("text_steps", None, ["trainer.steps=many"], 2, ["trainer.steps=many must be an integer >= 1"]),
    ("negative_lr", None, ["optim.lr_G=-1"], 2, ["optim.lr_G=-1 must be a number > 0"]),
    ("bad_channels", None, ["dataset.channels=2"], 2, ["dataset.channels=2", "1, 3"]),
    ("odd_image_size", None, ["dataset.image_size=48"], 2, ["dataset.image_size=48", "16, 32, 64, 128"]),
    ("noisy_p_above_one", None, ["tricks.noisy_p=1.5"], 2, ["tricks.noisy_p=1.5 must be a number in [0, 1]"]),
    ("unknown_nan_policy", None, ["trainer.on_nan=ignore"], 2, ["trainer.on_nan=ignore", "stop, skip_step"]),
    ("negative_keep", None, ["trainer.keep_checkpoints=-1"], 2, ["trainer.keep_checkpoints=-1 must be an integer >= 0"]),
    ("bad_betas", None, ["optim.betas=[0.5]"], 2, ["optim.betas=[0.5] must be two numbers in [0, 1)"]),
    ("unparsable_override", None, ["model.kernel_size=[3"], 2, ["cannot parse the override 'model.kernel_size=[3'"]),
    ("labels_without_labels", None, ["loss=hinge", "tricks=soft"], 2, ["tricks.soft_real changes D's labels", "loss=hinge"]),
    ("smooth_and_soft", None, ["tricks.smooth=0.9", "tricks.soft_real=[0.9,1.0]"], 2, ["tricks.smooth and tricks.soft_real"]),
    ("unknown_cifar_class", None, ["dataset=cifar10", "dataset.classes=[forg]"], 2, ["'forg' is not a class", "did you mean frog?", "airplane"]),
    ("unknown_device", None, ["trainer.device=tpu", *TINY[:-1]], 2, ["trainer.device=tpu is not a device", "auto, cpu, cuda or cuda:N"]),
    ("missing_interpolation", None, ["model.filters=${oops}"], 2, ["model.filters=${oops} cannot be resolved", "oops"]),
    ("float_for_integer", None, ["dataset.channels=3.0"], 2, ["dataset.channels=3.0 is not allowed", "1, 3"]),
    ("nan_dropout", None, ["model.d_dropout=nan"], 2, ["model.d_dropout=nan must be a number in [0, 1)"]),
    ("inf_lr", None, ["optim.lr_G=inf"], 2, ["optim.lr_G=inf must be a number > 0"]),
    ("inf_instance_noise", None, ["tricks.instance_noise=inf"], 2, ["tricks.instance_noise=inf must be a number >= 0"]),
    ("nan_real_label", None, ["tricks.real_label=nan"], 2, ["tricks.real_label=nan must be a number >= 0"]),
    ("huge_seed", None, ["trainer.seed=99999999999999999999"], 2, ["trainer.seed=99999999999999999999", "below 2**63"]),
    ("huge_filters", None, ["model.filters=100000"], 2, ["the models need about", "lower model.filters"]),
    # paths and data files
    ("run_dir_on_proc", None, ["hydra.run.dir=/proc/gan-lab-test/run"], 2, ["cannot be created", "/proc does not take new folders"]),
    ("folder_of_text_files", "text_files", FOLDER, 2, ["holds no images"]),
    ("one_image_batch_one", "one_image", [*FOLDER, "trainer.batch_size=1"], 2, ["the dataset holds 1 image", "at least 2"]),
    ("folder_without_path", None, ["dataset=image_folder"], 2, ["dataset.path is required for dataset=image_folder", "add dataset.path=<value>"]),
    ("folder_missing", None, ["dataset=image_folder", "dataset.path={tmp}/nowhere", *TINY[2:]], 2, ["dataset.path={tmp}/nowhere does not exist", "a folder of images"]),
    ("folder_is_a_file", "a_file", ["dataset=image_folder", "dataset.path={tmp}/afile", *TINY[2:]], 2, ["is not a folder"]),
    ("folder_empty", "empty_dir", FOLDER, 2, ["holds no images", ".png"]),
    ("folder_all_corrupt", "corrupt_only", FOLDER, 2, ["none of its 3 image files could be decoded"]),
    ("decompression_bomb", "bomb", FOLDER, 2, ["huge.png is too large to decode safely", "PIL's limit"]),
    ("batch_above_dataset", "few_images", [*FOLDER, "trainer.batch_size=8"], 2, ["trainer.batch_size=8 is larger than the dataset (5 images)"]),
    ("mnist_offline", "empty_data_dir", ["dataset=mnist", "dataset.download=false", "paths.data_dir={tmp}/data", *TINY[2:]], 2, ["MNIST files not found", "train-images-idx3-ubyte"]),
    ("cifar_offline", "empty_data_dir", ["dataset=cifar10_frog", "dataset.download=false", "paths.data_dir={tmp}/data", *TINY[2:]], 2, ["CIFAR-10 files not found", "cifar-10-python.tar.gz", "cifar-10-batches-py"]),
    ("run_dir_under_a_file", "a_file", ["hydra.run.dir={tmp}/afile/run"], 2, ["cannot be created", "is a file, not a folder"]),
    ("fresh_run_over_another", "run", [*TINY, "hydra.run.dir={tmp}/run"], 2, ["already holds a run with checkpoints", "resume="]),
    # checkpoints and resume
    ("resume_missing", None, ["resume={tmp}/nowhere"], 2, ["resume={tmp}/nowhere does not exist", "give a run directory", "checkpoints/step_NNNNNN.pt"]),
    ("resume_not_a_run", "plain_dir", ["resume={tmp}/plain"], 2, ["is not a gan-lab run directory"]),
    ("resume_no_checkpoints", "run_no_checkpoints", ["resume={tmp}/run"], 2, ["has no checkpoints/step_*.pt yet"]),
    ("resume_truncated", "truncated_checkpoint", ["resume={tmp}/run"], 2, ["cannot read checkpoint"]),
    ("resume_not_a_checkpoint", "not_a_checkpoint", ["resume={tmp}/run"], 2, ["cannot read checkpoint"]),
    ("resume_other_model", "run", ["resume={tmp}/run", "trainer.steps=8", "model.filters=16"], 2, ["model.filters=16 (the run has 8)"]),
    ("resume_finished", "run", ["resume={tmp}/run"], 2, ["already finished its 4 steps", "trainer.steps="]),
    ("resume_in_a_sweep", "run", ["-m", "resume={tmp}/run", "trainer.steps=8"], 2, ["drop -m/--multirun"]),
    ("resume_elsewhere", "run", ["resume={tmp}/run", "hydra.run.dir={tmp}/other"], 2, ["drop hydra.run.dir"]),
]


# Cases that also run as their own `python -m gan_lab` process: one per stage that can refuse input
# (before Hydra, inside the run, a data file, a checkpoint); the others run the same entry point in-process.
IN_A_PROCESS = {"unknown_dataset", "unknown_device", "folder_all_corrupt", "resume_truncated"}


@pytest.mark.parametrize("name,files,args,code,fragments", CASES, ids=[case[0] for case in CASES])
def test_bad_input_gets_one_line(name, files, args, code, fragments, tmp_path, tiny_run):
    _prepare(files, tmp_path, tiny_run) if files else None
    args = [arg.replace("{tmp}", str(tmp_path)) for arg in args]
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    result = run_cli("train", *args, cwd=tmp_path, subprocess_=name in IN_A_PROCESS)
    assert result.returncode == code, result.stdout + result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, result.stderr
    for fragment in fragments:
        assert fragment.replace("{tmp}", str(tmp_path)) in errors[0], errors[0]
    # Nothing was written and nothing already there was lost: not even Hydra's .hydra/ and train.log.
    after = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    assert after == before


# The other commands: (id, files to prepare, command and arguments, the fragments of its one error line)
OTHER_CASES = [
    ("generate_out_under_a_file", "run", ["generate", "{tmp}/run", "out={tmp}/run/summary.json/x.npz"], ["out=", "is a file, not a folder"]),
    ("generate_out_not_npz", "run", ["generate", "{tmp}/run", "out={tmp}/x.png"], ["must be a file ending in .npz"]),
    ("generate_huge_seed", "run", ["generate", "{tmp}/run", "seed=99999999999999999999"], ["seed=99999999999999999999", "below 2**63"]),
    ("generate_float_n", "run", ["generate", "{tmp}/run", "n=4.5"], ["n=4.5 must be an integer >= 1"]),
    ("interpolate_nan_fps", "run", ["interpolate", "{tmp}/run", "fps=nan"], ["fps=nan must be a number in [0.1, 60]"]),
    ("interpolate_inf_jitter", "run", ["interpolate", "{tmp}/run", "jitter=inf"], ["jitter=inf must be a number in [0, 10]"]),
    ("interpolate_out_on_proc", "run", ["interpolate", "{tmp}/run", "out=/proc/gan-lab-test"], ["out=/proc/gan-lab-test cannot be created"]),
    ("evaluate_nan_samples", "run", ["evaluate", "{tmp}/run", "metrics.num_samples=nan"], ["metrics.num_samples=nan"]),
    ("doctor_wrong_shape", "bad_diagnoses", ["doctor", "{tmp}/run", "--no-plot"], ["is not a diagnoses file", "events is not a list of objects"]),
    ("board_port_out_of_range", "run", ["board", "{tmp}/run", "--port", "99999"], ["--port 99999 is not a port", "1-65535"]),
]


@pytest.mark.parametrize("name,files,args,fragments", OTHER_CASES, ids=[case[0] for case in OTHER_CASES])
def test_other_commands_refuse_bad_input_in_one_line(name, files, args, fragments, tmp_path, tiny_run):
    _prepare(files, tmp_path, tiny_run)
    args = [arg.replace("{tmp}", str(tmp_path)) for arg in args]
    before = {p.relative_to(tmp_path): p.stat().st_mtime_ns for p in tmp_path.rglob("*") if p.is_file()}
    result = run_cli(*args, cwd=tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, result.stderr
    for fragment in fragments:
        assert fragment in errors[0], errors[0]
    after = {p.relative_to(tmp_path): p.stat().st_mtime_ns for p in tmp_path.rglob("*") if p.is_file()}
    assert after == before  # nothing written, nothing changed


LOADING_COMMANDS = ("generate", "interpolate", "evaluate", "probe")


def test_commands_that_load_a_run_refuse_options_before_importing_torch(tmp_path, tiny_run):
    """A refused option answers at once: the option checks run before torch (a 2-10 s import) is loaded."""
    _prepare("run", tmp_path, tiny_run)
    cases = [args for _, _, args, _ in OTHER_CASES if args[0] in LOADING_COMMANDS]
    cases.append(["probe", "{tmp}/run", "epochs=0"])
    assert {case[0] for case in cases} == set(LOADING_COMMANDS)
    cases = [[arg.replace("{tmp}", str(tmp_path)) for arg in case] for case in cases]
    script = (
        "import json, sys\n"
        "from gan_lab.cli import main\n"
        "codes = []\n"
        "for case in json.loads(sys.argv[1]):\n"
        "    try:\n"
        "        codes.append(main(case))\n"
        "    except SystemExit as stop:\n"
        "        codes.append(stop.code)\n"
        "print(json.dumps({'codes': codes, 'torch': 'torch' in sys.modules}))\n"
    )
    result = subprocess.run([sys.executable, "-c", script, json.dumps(cases)], capture_output=True, text=True, cwd=tmp_path)
    found = json.loads(result.stdout.splitlines()[-1])
    assert found["codes"] == [2] * len(cases), result.stderr
    assert not found["torch"], "a command imported torch before refusing its options"


def test_board_on_a_busy_port_says_so(tmp_path, tiny_run):
    with socket.socket() as taken:
        taken.bind(("localhost", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli("board", str(tiny_run), "--port", str(port), cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and f"localhost:{port}" in errors[0] and "choose another --port" in errors[0], result.stderr


def test_full_traceback_on_request(tmp_path):
    result = run_cli("train", "trainer.steps=0", cwd=tmp_path, env={"HYDRA_FULL_ERROR": "1"}, subprocess_=True)
    assert result.returncode != 0 and "Traceback" in result.stderr
