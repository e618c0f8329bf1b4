"""The built wheel carries conf/: `gan-lab train --cfg job` works from any directory after install."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from conftest import REPO


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("uv") is None, reason="needs uv to build and install the wheel")
def test_wheel_install_finds_configs_from_any_directory(tmp_path):
    dist = tmp_path / "dist"
    build = subprocess.run(
        ["uv", "build", "--wheel", "--no-build-isolation", "--offline", "-o", str(dist)],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert build.returncode == 0, build.stderr
    wheel = next(dist.glob("gan_lab-*.whl"))

    venv = tmp_path / "venv"
    subprocess.run(["uv", "venv", "--python", sys.executable, str(venv)], check=True, capture_output=True)
    install = subprocess.run(
        ["uv", "pip", "install", "--offline", "--no-deps", "--python", str(venv / "bin" / "python"), str(wheel)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert install.returncode == 0, install.stderr
    # The heavy dependencies (torch, ...) come from this environment's site-packages; gan_lab itself
    # comes only from the wheel: the editable install's path is not added (.pth files there are not run).
    site = next((venv / "lib").glob("python*/site-packages"))
    (site / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")

    workdir = tmp_path / "elsewhere"
    workdir.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    where = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import gan_lab; print(gan_lab.__file__)"],
        cwd=workdir, env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert str(site) in where.stdout, where.stdout + where.stderr
    assert (Path(where.stdout.strip()).parent / "conf" / "train.yaml").is_file()

    result = subprocess.run(
        [str(venv / "bin" / "gan-lab"), "train", "--cfg", "job", "dataset=cifar10_frog"],
        cwd=workdir, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "name: dcgan" in result.stdout and "- frog" in result.stdout
