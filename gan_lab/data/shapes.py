"""A procedural dataset: anti-aliased circles, squares and triangles drawn in code.

No files and no network, deterministic for a seed. Flat colour areas and sharp edges make the
checkerboard artifacts of transposed convolutions easy to see.
"""

from __future__ import annotations

import math

import torch

SHAPE_KINDS = ("circle", "square", "triangle")
_CHUNK = 512  # images drawn at once; bounds the float buffers to a few hundred MB at 128 px


def draw_shapes(
    num_images: int,
    image_size: int,
    channels: int,
    seed: int = 0,
    max_shapes: int = 1,
    background: str = "black",
    rotate: bool = False,
) -> torch.Tensor:
    """Draw `num_images` images as a uint8 tensor of shape N x channels x image_size x image_size.

    Each image has a plain background (black, white, or a random dark or light tone per image) and
    1..max_shapes filled shapes of random kind, size, position and colour, contrasting with the
    background; squares stand axis-aligned and triangles point up unless `rotate` is true. The edges are anti-aliased from the shapes' signed distance
    (coverage = 0.5 - distance, clamped to [0, 1]).
    """
    gen = torch.Generator().manual_seed(seed)
    params = _draw_parameters(num_images, channels, max_shapes, background, gen)
    if not rotate:
        params["angle"].zero_()
    images = torch.empty(num_images, channels, image_size, image_size, dtype=torch.uint8)
    for start in range(0, num_images, _CHUNK):
        chunk = slice(start, min(start + _CHUNK, num_images))
        images[chunk] = _render({k: v[chunk] for k, v in params.items()}, image_size)
    return images


def _draw_parameters(n: int, channels: int, max_shapes: int, background: str, gen: torch.Generator) -> dict:
    """All random choices up front, so the images do not depend on the chunk size."""
    if background == "random":
        dark = torch.rand(n, generator=gen) < 0.5
        tone = torch.where(dark, 0.05 + 0.2 * torch.rand(n, generator=gen), 0.75 + 0.2 * torch.rand(n, generator=gen))
        fill = (tone[:, None] + 0.08 * (torch.rand(n, channels, generator=gen) - 0.5)).clamp(0, 1)
    else:
        dark = torch.full((n,), background == "black")
        fill = torch.full((n, channels), 0.0 if background == "black" else 1.0)
    # Shape colours stay on the other side of mid-grey from the background.
    colour = torch.rand(n, max_shapes, channels, generator=gen)
    colour = torch.where(dark[:, None, None], 0.45 + 0.55 * colour, 0.55 * colour)
    count = torch.randint(1, max_shapes + 1, (n,), generator=gen)
    return {
        "background": fill,
        "colour": colour,
        "active": torch.arange(max_shapes)[None, :] < count[:, None],
        "kind": torch.randint(0, len(SHAPE_KINDS), (n, max_shapes), generator=gen),
        "centre": 0.35 + 0.3 * torch.rand(n, max_shapes, 2, generator=gen),  # fraction of the size
        "radius": 0.2 + 0.14 * torch.rand(n, max_shapes, generator=gen),  # fraction of the size
        "angle": 2 * math.pi * torch.rand(n, max_shapes, generator=gen),
    }


def _render(p: dict, size: int) -> torch.Tensor:
    n, max_shapes, channels = p["colour"].shape
    coords = torch.arange(size, dtype=torch.float32) + 0.5  # pixel centres
    ys, xs = coords.view(1, size, 1), coords.view(1, 1, size)
    image = p["background"].view(n, channels, 1, 1).expand(n, channels, size, size).clone()
    distance_of_kind = (_circle, _square, _triangle)
    for s in range(max_shapes):
        coverage = torch.zeros(n, 1, size, size)
        for kind, distance in enumerate(distance_of_kind):
            chosen = ((p["kind"][:, s] == kind) & p["active"][:, s]).nonzero().squeeze(1)
            if chosen.numel() == 0:
                continue
            cx, cy = (p["centre"][chosen, s] * size).T.reshape(2, -1, 1, 1)
            r = (p["radius"][chosen, s] * size).view(-1, 1, 1)
            a = p["angle"][chosen, s].view(-1, 1, 1)
            # Pixel coordinates in the shape's rotated frame.
            u = torch.cos(a) * (xs - cx) + torch.sin(a) * (ys - cy)
            v = -torch.sin(a) * (xs - cx) + torch.cos(a) * (ys - cy)
            coverage[chosen, 0] = (0.5 - distance(u, v, r)).clamp(0, 1)
        image = image * (1 - coverage) + p["colour"][:, s].view(n, channels, 1, 1) * coverage
    return (image * 255).round_().clamp_(0, 255).to(torch.uint8)


def _circle(u: torch.Tensor, v: torch.Tensor, radius: torch.Tensor) -> torch.Tensor:
    return torch.sqrt(u * u + v * v) - radius


def _square(u: torch.Tensor, v: torch.Tensor, radius: torch.Tensor) -> torch.Tensor:
    half_side = 0.8 * radius
    qu, qv = u.abs() - half_side, v.abs() - half_side
    outside = torch.sqrt(qu.clamp(min=0) ** 2 + qv.clamp(min=0) ** 2)
    return outside + torch.maximum(qu, qv).clamp(max=0)


def _triangle(u: torch.Tensor, v: torch.Tensor, radius: torch.Tensor) -> torch.Tensor:
    """Equilateral triangle about as large as the circle: the largest signed distance to its edges."""
    circumradius = 1.3 * radius
    edges = []
    for k in range(3):
        theta = math.pi / 2 + k * 2 * math.pi / 3  # edge normals, 120 degrees apart
        edges.append(math.cos(theta) * u + math.sin(theta) * v)
    return torch.maximum(torch.maximum(edges[0], edges[1]), edges[2]) - circumradius / 2
