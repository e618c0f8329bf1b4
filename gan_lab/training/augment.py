"""Differentiable augmentation of everything D sees (`augment=diffaug|ada`), after DiffAugment and ADA.

Real and generated images go through the same random ops on both the D and the G step, so D never
sees an un-augmented image and G gets its gradients through the ops (Zhao et al. 2020, Karras et al.
2020). Each op is applied to each image with probability p, drawn on the device for the whole batch:
no per-image Python. With `augment=ada`, p follows ADA's overfitting heuristic
r_t = E[sign(D(x_real))] over each logging interval (E[sign(D(x_real) - D(G(z)))] for wgan_gp and
rpgan, whose D has no fixed zero; losses.py): above the target D is too sure of the training images and
p rises; below it p falls, by (images seen) / ada_images per interval.
"""

from __future__ import annotations

import torch



def _per_sample(x: torch.Tensor, p: float) -> torch.Tensor:
    """A B x 1 x 1 x 1 mask: True for the images an op applies to."""
    return (torch.rand(x.shape[0], 1, 1, 1, device=x.device) < p)


def flip(x: torch.Tensor, p: float) -> torch.Tensor:
    """Horizontal flip."""
    return torch.where(_per_sample(x, p), x.flip(3), x)


def brightness(x: torch.Tensor, p: float) -> torch.Tensor:
    """Add U[-0.5, 0.5) to every pixel of an image (images in [-1, 1])."""
    shift = torch.rand(x.shape[0], 1, 1, 1, device=x.device, dtype=x.dtype) - 0.5
    return x + shift * _per_sample(x, p)


def saturation(x: torch.Tensor, p: float) -> torch.Tensor:
    """Scale each pixel's distance from its channel mean by U[0, 2) (grey images are unchanged)."""
    mean = x.mean(dim=1, keepdim=True)
    scale = torch.rand(x.shape[0], 1, 1, 1, device=x.device, dtype=x.dtype) * 2
    return torch.where(_per_sample(x, p), (x - mean) * scale + mean, x)


def contrast(x: torch.Tensor, p: float) -> torch.Tensor:
    """Scale each image's distance from its mean by U[0.5, 1.5)."""
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    scale = torch.rand(x.shape[0], 1, 1, 1, device=x.device, dtype=x.dtype) + 0.5
    return torch.where(_per_sample(x, p), (x - mean) * scale + mean, x)


def translation(x: torch.Tensor, p: float, ratio: float = 0.125) -> torch.Tensor:
    """Shift by up to ratio x size pixels in each direction; the uncovered border is 0 (mid grey)."""
    b, _, h, w = x.shape
    sy, sx = max(int(h * ratio + 0.5), 1), max(int(w * ratio + 0.5), 1)
    apply = _per_sample(x, p).view(b, 1)
    dy = torch.randint(-sy, sy + 1, (b, 1), device=x.device) * apply
    dx = torch.randint(-sx, sx + 1, (b, 1), device=x.device) * apply
    rows = (torch.arange(h, device=x.device).view(1, h) + dy + sy).view(b, h, 1)  # indices in the padded image
    cols = (torch.arange(w, device=x.device).view(1, w) + dx + sx).view(b, 1, w)
    padded = torch.nn.functional.pad(x, (sx, sx, sy, sy)).permute(0, 2, 3, 1)  # B x H' x W' x C
    batch = torch.arange(b, device=x.device).view(b, 1, 1)
    return padded[batch, rows, cols].permute(0, 3, 1, 2)


def cutout(x: torch.Tensor, p: float, ratio: float = 0.5) -> torch.Tensor:
    """Set a square of ratio x size (centred anywhere in the image) to 0 (mid grey)."""
    b, _, h, w = x.shape
    ch, cw = max(int(h * ratio + 0.5), 1), max(int(w * ratio + 0.5), 1)
    cy = torch.randint(0, h, (b, 1, 1), device=x.device)
    cx = torch.randint(0, w, (b, 1, 1), device=x.device)
    rows = torch.arange(h, device=x.device).view(1, h, 1)
    cols = torch.arange(w, device=x.device).view(1, 1, w)
    inside = ((rows - cy).abs() * 2 < ch) & ((cols - cx).abs() * 2 < cw)  # B x H x W
    keep = ~(inside.unsqueeze(1) & _per_sample(x, p))
    return x * keep.to(x.dtype)


# policy name -> ops, in the order they run (DiffAugment: colour, translation, cutout)
POLICY_OPS = {
    "flip": (flip,),
    "color": (brightness, saturation, contrast),
    "translation": (translation,),
    "cutout": (cutout,),
}


def augment(x: torch.Tensor, p: float, policy) -> torch.Tensor:
    """x with each op of `policy` applied to each image with probability p (differentiable in x)."""
    for name in POLICY_OPS:
        if name in policy:
            for op in POLICY_OPS[name]:
                x = op(x, p)
    return x


class Augment:
    """What D sees: `augment(x)` on every real and generated batch; p fixed or adapted (ADA).

    p is a host float (no sync per step); r_t arrives once per logging interval from the trainer's
    interval means. state_dict() keeps p in the checkpoint, so a resume continues with the same p.
    """

    def __init__(self, name: str = "none", p: float = 0.0, policy=(), target: float = 0.6, ada_images: float = 1.0):
        self.name, self.p, self.policy = name, float(p), tuple(policy)
        self.target, self.ada_images = target, ada_images

    @classmethod
    def from_config(cls, cfg) -> "Augment":
        if cfg is None:
            return cls()
        return cls(cfg.name, cfg.p, list(cfg.policy), cfg.target, cfg.ada_images)

    @property
    def enabled(self) -> bool:
        return self.name != "none"

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        if not self.enabled or self.p <= 0:
            return x
        return augment(x, self.p, self.policy)

    def adjust(self, r_t: float, images: int) -> dict[str, float]:
        """ADA's update after a logging interval of `images` real images; the values to log."""
        if self.name == "ada" and r_t == r_t:  # NaN (no finite step in the interval) leaves p alone
            step = images / self.ada_images
            self.p = min(max(self.p + (step if r_t > self.target else -step), 0.0), 1.0)
        return {"augment/p": self.p} if self.enabled else {}

    def state_dict(self) -> dict:
        return {"p": self.p}

    def load_state_dict(self, state: dict) -> None:
        self.p = float(state["p"])
