"""`gan-lab generate <run dir> n=10000 [out=...] [seed=0] [checkpoint=...]`: samples.npz and a grid PNG.

samples.npz holds `images` (uint8, N x H x W x C) and `z` (float32, N x latent_dim, the noise of
each image). The same seed gives the same images, and image i is the same for any n.
"""

from __future__ import annotations

from pathlib import Path

from gan_lab.commands.run_options import CHECKPOINT, DEVICE, open_run
from gan_lab.config.options import Option, entry_point, integer, output_path
from gan_lab.runs.layout import display_path, generated_file


def _npz_file(text: str) -> Path:
    file = output_path(text)
    if file.suffix != ".npz":
        raise ValueError("must be a file ending in .npz, e.g. out=samples/frogs.npz")
    return file


GRID_IMAGES = 64  # the grid shows the first 64 images, 8 per row: image i sits at row i // 8, column i % 8
OPTIONS = [
    Option("n", integer(1), 10000, "number of images"),
    Option(
        "out", _npz_file, None, "the .npz file to write (default <run dir>/samples.npz; the grid goes next to it as .png)"
    ),
    Option("seed", integer(0), 0, "seed of the latent noise: the same seed gives the same images"),
    CHECKPOINT,
    Option("batch_size", integer(1), 256, "images per forward pass"),
    DEVICE,
]
SUMMARY = "Samples images from a run's checkpoint (its EMA G when it kept one) into samples.npz and a grid PNG."


def run(args: list[str]) -> int:
    opened = open_run("generate", args, OPTIONS, SUMMARY)
    if opened is None:
        return 0
    o, loaded = opened
    from gan_lab.models.latent import latents  # after the options: a refused one costs no torch import
    from gan_lab.runs.sample_files import save_grid, write_samples
    from gan_lab.runs.trained import generate

    out = o["out"] or generated_file(loaded.run_dir)
    z = latents(o["n"], loaded.latent_dim, loaded.cfg.model.latent_dist, o["seed"])
    images = generate(loaded.G, z, o["batch_size"], loaded.device)
    write_samples(images, z, out)
    grid = out.with_suffix(".png")
    save_grid(images[:GRID_IMAGES], grid)
    n, c, h, w = images.shape
    print(
        f"generated {n} images ({h}x{w}x{c}, seed {o['seed']}) from {loaded.describe()} on {loaded.device}\n"
        f"wrote {display_path(out)} (images: uint8 N x H x W x C, z: float32 N x {loaded.latent_dim}) "
        f"and {display_path(grid)} (the first {min(n, GRID_IMAGES)}, image i at row i // 8, column i % 8)"
    )
    return 0


main = entry_point(run)
