"""TensorBoard output of a run: scalars, per-layer gradient norms, sample grids, config text."""

from __future__ import annotations

from pathlib import Path

import torch
from torch.utils.tensorboard import SummaryWriter
from torchvision.utils import make_grid


def image_grid(images: torch.Tensor, nrow: int | None = None) -> torch.Tensor:
    """Float images in [-1, 1] (N x C x H x W) -> one 3 x H' x W' grid in [0, 1]."""
    nrow = nrow or max(1, int(len(images) ** 0.5))
    return make_grid(images.detach().float().cpu(), nrow=nrow, padding=2, normalize=True, value_range=(-1, 1))


def grad_norm_tag(net: str, index: int, layer: str) -> str:
    """'grad_norm/G/00_project': NN counts from the input side (G's z, D's image)."""
    return f"grad_norm/{net}/{index:02d}_{layer}"


class RunWriter:
    """A SummaryWriter writing straight into the run directory (one TensorBoard run per run dir)."""

    def __init__(self, run_dir: Path, purge_step: int | None = None):
        self.writer = SummaryWriter(log_dir=str(run_dir), purge_step=purge_step)

    def scalars(self, step: int, values: dict[str, float]) -> None:
        for tag, value in values.items():
            self.writer.add_scalar(tag, value, step)

    def grad_norms(self, step: int, net: str, layer_names: list[str], norms: list[float]) -> None:
        for index, (name, norm) in enumerate(zip(layer_names, norms)):
            self.writer.add_scalar(grad_norm_tag(net, index, name), norm, step)

    def grid(self, tag: str, grid: torch.Tensor, step: int) -> None:
        self.writer.add_image(tag, grid, step)

    def text(self, tag: str, text: str, step: int = 0) -> None:
        self.writer.add_text(tag, text, step)

    def config(self, yaml_text: str) -> None:
        """The composed config, indented so TensorBoard's markdown shows it as a code block."""
        self.text("config", "\n".join("    " + line for line in yaml_text.splitlines()))

    def layout(self, g_layers: list[str], d_layers: list[str]) -> None:
        """Custom-scalars page: G's and D's bottom and top layer gradient norms side by side."""
        def bottom_top(net: str, layers: list[str]) -> list[str]:
            return [grad_norm_tag(net, 0, layers[0]), grad_norm_tag(net, len(layers) - 1, layers[-1])]

        self.writer.add_custom_scalars(
            {
                "gradient norms (bottom vs top layer)": {
                    "G: bottom (next to z) vs top (image)": ["Multiline", bottom_top("G", g_layers)],
                    "D: bottom (next to image) vs top (logit)": ["Multiline", bottom_top("D", d_layers)],
                },
                "training": {
                    "losses": ["Multiline", ["loss/D", "loss/G"]],
                    "D outputs": ["Multiline", ["prob/D_real", "prob/D_fake"]],
                },
            }
        )

    def close(self) -> None:
        self.writer.close()
