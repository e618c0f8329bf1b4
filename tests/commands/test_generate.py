"""gan-lab generate: samples.npz layout, the grid, seeding, checkpoint choice and one-line errors."""

from __future__ import annotations

import numpy as np
import torch
from afterhelpers import command, copy_run, failing
from conftest import run_cli
from PIL import Image

from gan_lab.models.latent import LATENT_BLOCK, latents


def test_generate_cli_writes_1000_images_in_the_documented_layout(tiny_run, tmp_path):
    out = tmp_path / "s.npz"
    result = run_cli("generate", str(tiny_run), "n=1000", f"out={out}")
    assert result.returncode == 0, result.stderr
    data = np.load(out)
    assert data["images"].shape == (1000, 16, 16, 3) and data["images"].dtype == np.uint8
    assert data["z"].shape == (1000, 16) and data["z"].dtype == np.float32
    # the grid: the first 64 images, 8 per row, 16 px with 2 px padding
    assert Image.open(out.with_suffix(".png")).size == (8 * 18 + 2, 8 * 18 + 2)
    assert "generated 1000 images" in result.stdout


def test_generate_is_seeded_and_image_i_does_not_depend_on_n(tiny_run, tmp_path):
    def images(name, *args):
        command("generate", str(tiny_run), f"out={tmp_path / name}", *args)
        return np.load(tmp_path / name)

    a, b = images("a.npz", "n=40", "seed=3"), images("b.npz", "n=40", "seed=3")
    assert np.array_equal(a["images"], b["images"]) and np.array_equal(a["z"], b["z"])
    short = images("c.npz", "n=7", "seed=3", "batch_size=3")
    assert np.array_equal(short["images"], a["images"][:7])
    other = images("d.npz", "n=40", "seed=4")
    assert not np.array_equal(other["z"], a["z"]) and not np.array_equal(other["images"], a["images"])


def test_latents_are_prefix_stable_across_blocks_and_follow_the_prior():
    long = latents(LATENT_BLOCK + 10, 8, "normal", seed=1)
    assert torch.equal(latents(5, 8, "normal", seed=1), long[:5])
    assert abs(float(long.std()) - 1) < 0.05
    uniform = latents(2000, 4, "uniform", seed=1)
    assert float(uniform.min()) >= -1 and float(uniform.max()) <= 1 and float(uniform.min()) < -0.99


def test_generate_uses_the_ema_generator_and_named_checkpoints(tiny_run, tmp_path, capsys):
    run = copy_run(tiny_run, tmp_path)
    payload = torch.load(run / "checkpoints" / "step_000004.pt", weights_only=True)
    payload["G_ema"] = {k: v * 1.5 if v.is_floating_point() else v for k, v in payload["G"].items()}
    payload["step"] = 5
    torch.save(payload, run / "checkpoints" / "step_000005.pt")

    command("generate", str(run), "n=8", f"out={tmp_path / 'ema.npz'}")
    assert "step_000005.pt (step 5, G_ema)" in capsys.readouterr().out
    command("generate", str(run), "n=8", "checkpoint=step_000004.pt", f"out={tmp_path / 'g.npz'}")
    assert "step_000004.pt (step 4, G)" in capsys.readouterr().out
    assert not np.array_equal(np.load(tmp_path / "ema.npz")["images"], np.load(tmp_path / "g.npz")["images"])


def test_generate_bad_options_fail_in_one_line(tiny_run, tmp_path, capsys):
    cases = {
        ("n=0",): "n=0 must be an integer >= 1",
        ("nn=5",): "nn is not an option (did you mean n?)",
        ("checkpoint=step_999.pt",): "checkpoint=step_999.pt does not exist; this run has step_000004.pt",
        ("device=tpu",): "device=tpu is not",
        (f"out={tmp_path / 'x.txt'}",): "must be a file ending in .npz",
    }
    for args, expected in cases.items():
        err = failing(capsys, "generate", str(tiny_run), *args)
        assert expected in err and err.count("\n") == 1, err
    err = failing(capsys, "generate", str(tmp_path / "nowhere"))
    assert "does not exist" in err and err.count("\n") == 1
    # a run directory is left as it was by a refused command
    assert not (tiny_run / "samples.npz").exists()


def test_generate_never_unpickles_a_checkpoint(tiny_run, tmp_path, capsys):
    run = copy_run(tiny_run, tmp_path)
    evil = run / "checkpoints" / "evil.pt"
    torch.save({"G": {}, "D": {}, "step": 1, "config": {}, "x": object()}, evil)
    err = failing(capsys, "generate", str(run), "checkpoint=evil.pt", "n=2")
    assert "refusing to load" in err


def test_help_lists_every_option_with_its_default(capsys):
    assert command("generate", "--help") == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: gan-lab generate <run dir>")
    for shown in ("n=10000", "seed=0", "checkpoint=null", "device=auto"):
        assert shown in out
