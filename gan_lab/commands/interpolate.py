"""`gan-lab interpolate <run dir>`: latent walks as a grid PNG and an animated GIF, and the DCGAN paper's
vector arithmetic (`--arithmetic A B C`: mean(z_A) - mean(z_B) + mean(z_C)).

Walk k goes from latent point 2k to point 2k+1 of the seed (slerp by default, mode=lerp for straight
lines). Arithmetic groups are indices of `gan-lab generate` images with the same seed: image i of
its grid (row i // 8, column i % 8) has the noise used here for index i.
"""

from __future__ import annotations

from gan_lab.commands.run_options import CHECKPOINT, DEVICE, open_run
from gan_lab.config.options import Option, choice, entry_point, integer, number, output_path
from gan_lab.errors import UserError
from gan_lab.runs.layout import display_path, interpolations_dir

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


def run(args: list[str]) -> int:
    args, groups = split_arithmetic(args)
    opened = open_run("interpolate", args, OPTIONS, SUMMARY, extra=" [--arithmetic A B C]")
    if opened is None:
        return 0
    o, loaded = opened
    from gan_lab.models.latent import latents, walk_latents  # after the options: a refused one costs no torch import
    from gan_lab.runs.interpolation_pictures import write_arithmetic, write_walks
    from gan_lab.runs.trained import generate

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
