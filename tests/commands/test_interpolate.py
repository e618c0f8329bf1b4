"""gan-lab interpolate: slerp/lerp paths, the grid PNG and GIF, vector arithmetic and its errors."""

from __future__ import annotations

import torch
from afterhelpers import command, copy_run, failing
from PIL import Image

from gan_lab.models.latent import arithmetic_latent, lerp, slerp, walk_latents


def test_slerp_keeps_endpoints_and_stays_on_the_sphere_while_lerp_cuts_through():
    a, b = torch.tensor([1.0, 0.0, 0.0]), torch.tensor([0.0, 1.0, 0.0])
    t = torch.linspace(0, 1, 5)
    path = slerp(a, b, t)
    assert torch.allclose(path[0], a) and torch.allclose(path[-1], b, atol=1e-6)
    assert torch.allclose(path.norm(dim=1), torch.ones(5), atol=1e-6)
    assert torch.allclose(lerp(a[None], b[None], t)[2], torch.tensor([0.5, 0.5, 0.0]))
    assert torch.allclose(slerp(a, a.clone(), t), a.expand(5, -1))  # parallel vectors: no division by zero
    walks = walk_latents(torch.randn(3, 8), torch.randn(3, 8), 6, "lerp")
    assert walks.shape == (3, 6, 8)


def test_arithmetic_latent_is_mean_a_minus_mean_b_plus_mean_c():
    z = torch.arange(12.0).view(6, 2)
    expected = z[[0, 1]].mean(0) - z[[2]].mean(0) + z[[3, 4, 5]].mean(0)
    assert torch.equal(arithmetic_latent(z, [0, 1], [2], [3, 4, 5]), expected)


def test_interpolate_writes_a_grid_and_a_looping_gif_deterministically(tiny_run, tmp_path, capsys):
    run = copy_run(tiny_run, tmp_path)
    assert command("interpolate", str(run), "walks=3", "steps=5") == 0
    assert "3 slerp walks of 5 steps" in capsys.readouterr().out
    folder = run / "interpolations"
    grid = Image.open(folder / "walks.png")
    # 16 px images enlarged 4x to 64 px, 2 px padding: 5 columns x 3 rows
    assert grid.size == (5 * 66 + 2, 3 * 66 + 2)
    gif = Image.open(folder / "walks.gif")
    assert gif.n_frames == 2 * 5 - 2 and gif.info["loop"] == 0
    first = (folder / "walks.png").read_bytes()
    command("interpolate", str(run), "walks=3", "steps=5")
    assert (folder / "walks.png").read_bytes() == first
    command("interpolate", str(run), "walks=3", "steps=5", "mode=lerp", f"out={tmp_path / 'lerp'}")
    assert (tmp_path / "lerp" / "walks.png").read_bytes() != first


def test_interpolate_arithmetic_grid(tiny_run, tmp_path, capsys):
    run = copy_run(tiny_run, tmp_path)
    assert command("interpolate", str(run), "--arithmetic", "1,4,7", "2,5", "3", "seed=2") == 0
    assert "mean z[1,4,7] - mean z[2,5] + mean z[3]" in capsys.readouterr().out
    # rows A (3 + mean), B (2 + mean), C (1 + mean), result + 7 variants: 4 rows of 8
    assert Image.open(run / "interpolations" / "arithmetic.png").size == (8 * 66 + 2, 4 * 66 + 2)


def test_interpolate_bad_input_fails_in_one_line(tiny_run, capsys):
    cases = {
        ("--arithmetic", "1,2", "3"): "--arithmetic takes three groups",
        ("--arithmetic", "1,x", "3", "4"): "group A '1,x' must be comma-separated indices",
        ("mode=cubic",): "mode=cubic must be one of slerp, lerp",
        ("steps=1",): "steps=1 must be an integer >= 2",
    }
    for args, expected in cases.items():
        err = failing(capsys, "interpolate", str(tiny_run), *args)
        assert expected in err and err.count("\n") == 1, err
