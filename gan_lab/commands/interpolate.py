"""`gan-lab interpolate <run dir>`: latent walks as a grid PNG and an animated GIF, and the DCGAN paper's
vector arithmetic (`--arithmetic A B C`: mean(z_A) - mean(z_B) + mean(z_C)).

Walk k goes from latent point 2k to point 2k+1 of the seed (slerp by default, mode=lerp for straight
lines). Arithmetic groups are indices of `gan-lab generate` images with the same seed: image i of
its grid (row i // 8, column i % 8) has the noise used here for index i.
"""

from __future__ import annotations

import math
from pathlib import Path

import torch
import torch.nn.functional as F
from PIL import Image
from torchvision.utils import make_grid, save_image

from gan_lab.commands.run_options import CHECKPOINT, DEVICE, open_run
from gan_lab.config.options import Option, choice, entry_point, integer, number, output_path
from gan_lab.data.transforms import to_unit_range
from gan_lab.errors import UserError
from gan_lab.models.latent import latents
from gan_lab.runs.layout import arithmetic_picture, display_path, interpolations_dir, walk_files
from gan_lab.runs.trained import generate

MIN_SHOWN = 64  # images smaller than this are enlarged (nearest neighbour) in the PNG and GIF
OPTIONS = [
    Option("walks", integer(1), 6, "number of walks (rows of the grid)"),
    Option("steps", integer(2), 10, "images per walk, endpoints included"),
    Option("mode", choice("slerp", "lerp"), "slerp", "slerp (along the sphere where Gaussian noise lives) or lerp"),
    Option("seed", integer(0), 0, "seed of the latent points (and of the arithmetic's sample indices)"),
    Option("fps", number(0.1, 60), 8, "frames per second of the GIF"),
    Option("jitter", number(0, 10), 0.25, "--arithmetic: scale of the uniform noise added to the result's variants"),
    Option("out", output_path, None, "output folder (default <run dir>/interpolations)"),
    CHECKPOINT,
    DEVICE,
]
SUMMARY = (
    "Latent walks between random points as walks.png (one walk per row) and walks.gif (all walks moving\n"
    "together). --arithmetic A B C (comma-separated sample indices, e.g. --arithmetic 3,8,12 5,9 1,20)\n"
    "renders mean(z_A) - mean(z_B) + mean(z_C) and 7 jittered variants as arithmetic.png."
)


def lerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Straight-line points between rows a and b: len(t) x D for each pair."""
    return a + (b - a) * t[:, None]


def slerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Spherical interpolation between vectors a and b (D) at fractions t; lerp when they are parallel."""
    cos = torch.dot(a / a.norm(), b / b.norm()).clamp(-1, 1)
    omega = torch.arccos(cos)
    if omega.abs() < 1e-4:
        return lerp(a, b, t)
    return (torch.sin((1 - t) * omega)[:, None] * a + torch.sin(t * omega)[:, None] * b) / torch.sin(omega)


def walk_latents(starts: torch.Tensor, ends: torch.Tensor, steps: int, mode: str) -> torch.Tensor:
    """walks x steps x D latent points."""
    t = torch.linspace(0, 1, steps)
    path_of = slerp if mode == "slerp" else lerp
    return torch.stack([path_of(a, b, t) for a, b in zip(starts, ends)])


def arithmetic_latent(z: torch.Tensor, a: list[int], b: list[int], c: list[int]) -> torch.Tensor:
    """mean(z_A) - mean(z_B) + mean(z_C)."""
    return z[a].mean(0) - z[b].mean(0) + z[c].mean(0)


def parse_groups(values: list[str]) -> list[list[int]]:
    """Three comma-separated lists of sample indices."""
    if len(values) != 3:
        raise UserError(
            "gan-lab interpolate: --arithmetic takes three groups of sample indices, e.g. --arithmetic 3,8,12 5,9 1,20"
        )
    groups = []
    for name, text in zip("ABC", values):
        try:
            group = [int(item) for item in text.split(",") if item.strip()]
        except ValueError:
            group = []
        if not group or min(group) < 0:
            raise UserError(
                f"gan-lab interpolate: --arithmetic group {name} '{text}' must be comma-separated indices >= 0, "
                f"e.g. 3,8,12"
            )
        groups.append(group)
    return groups


def split_arithmetic(args: list[str]) -> tuple[list[str], list[list[int]] | None]:
    """(the other arguments, the three groups after --arithmetic or None)."""
    if "--arithmetic" not in args:
        return args, None
    at = args.index("--arithmetic")
    values = [a for a in args[at + 1 : at + 4] if "=" not in a and not a.startswith("-")]
    rest = args[:at] + args[at + 1 + len(values) :]
    return rest, parse_groups(values)


def enlarge(images: torch.Tensor) -> torch.Tensor:
    """Float images smaller than MIN_SHOWN px enlarged by an integer factor (nearest neighbour)."""
    factor = math.ceil(MIN_SHOWN / images.shape[-1])
    return F.interpolate(images, scale_factor=factor, mode="nearest") if factor > 1 else images


def to_frame(grid: torch.Tensor) -> Image.Image:
    """A 3 x H x W grid in [0, 1] as a PIL image."""
    return Image.fromarray(grid.mul(255).round().clamp(0, 255).byte().permute(1, 2, 0).numpy())


def write_walks(images: torch.Tensor, out: Path, fps: float) -> tuple[Path, Path]:
    """walks.png (a row per walk) and walks.gif (frame t: every walk at step t, forth and back)."""
    walks, steps = images.shape[:2]
    shown = enlarge(to_unit_range(images.flatten(0, 1))).unflatten(0, (walks, steps))
    png, gif = walk_files(out)
    save_image(shown.flatten(0, 1), png, nrow=steps, padding=2, normalize=True, value_range=(-1, 1))
    columns = max(1, math.ceil(math.sqrt(walks)))
    frames = [
        to_frame(make_grid(shown[:, t], nrow=columns, padding=2, normalize=True, value_range=(-1, 1)))
        for t in list(range(steps)) + list(range(steps - 2, 0, -1))
    ]
    frames[0].save(gif, save_all=True, append_images=frames[1:], duration=round(1000 / fps), loop=0)
    return png, gif


def write_arithmetic(G, z_all, groups, loaded, jitter: float, seed: int, out: Path) -> Path:
    """arithmetic.png: rows A, B, C (their samples, then the image of their mean z), then the result and variants."""
    result = arithmetic_latent(z_all, *groups)
    noise = torch.rand(7, result.numel(), generator=torch.Generator().manual_seed(seed)).mul_(2).sub_(1).mul_(jitter)
    rows_z = [torch.cat([z_all[g], z_all[g].mean(0, keepdim=True)]) for g in groups]
    rows_z.append(torch.cat([result[None], result[None] + noise]))
    rows = [to_unit_range(generate(G, row, 256, loaded.device)) for row in rows_z]
    width = max(len(row) for row in rows)
    white = torch.ones_like(rows[0][:1])  # fills rows shorter than the grid
    images = torch.cat([torch.cat([row, white.expand(width - len(row), -1, -1, -1)]) for row in rows])
    file = arithmetic_picture(out)
    save_image(enlarge(images), file, nrow=width, padding=2, normalize=True, value_range=(-1, 1))
    return file


def run(args: list[str]) -> int:
    args, groups = split_arithmetic(args)
    opened = open_run("interpolate", args, OPTIONS, SUMMARY, extra=" [--arithmetic A B C]")
    if opened is None:
        return 0
    o, loaded = opened
    out = o["out"] or interpolations_dir(loaded.run_dir)
    out.mkdir(parents=True, exist_ok=True)
    dist = loaded.cfg.model.latent_dist
    if groups is not None:
        z_all = latents(max(max(g) for g in groups) + 1, loaded.latent_dim, dist, o["seed"])
        file = write_arithmetic(loaded.G, z_all, groups, loaded, o["jitter"], o["seed"], out)
        a, b, c = (",".join(map(str, g)) for g in groups)
        print(
            f"vector arithmetic from {loaded.describe()}, seed {o['seed']}: mean z[{a}] - mean z[{b}] + mean z[{c}]\n"
            f"wrote {display_path(file)}: rows A, B, C (samples, then their mean z), then the result and 7 variants"
        )
        return 0
    points = latents(2 * o["walks"], loaded.latent_dim, dist, o["seed"])
    z = walk_latents(points[0::2], points[1::2], o["steps"], o["mode"])
    images = generate(loaded.G, z.flatten(0, 1), 256, loaded.device).unflatten(0, z.shape[:2])
    png, gif = write_walks(images, out, o["fps"])
    print(
        f"{o['walks']} {o['mode']} walks of {o['steps']} steps from {loaded.describe()}, seed {o['seed']}\n"
        f"wrote {display_path(png)} (a row per walk) and {display_path(gif)}"
    )
    return 0


main = entry_point(run)
