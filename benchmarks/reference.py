"""The baseline every GAN user knows: a training loop written the way pytorch/examples `dcgan/main.py` does it.

torchvision ImageFolder + a DataLoader with 2 workers and per-image transforms (resize, crop, to
tensor, normalise), D ending in a sigmoid with nn.BCELoss, default (per-parameter loop) Adam,
`zero_grad()`, `.item()` on every step, fp32 and the default (contiguous) memory layout. It trains copies
of gan-lab's own G and D, so both loops run the same layer shapes, with the example's nn layers where
gan-lab computes one differently (its dense convs as matmuls); gan-lab's bf16 autocast, channels_last
and those layers are among what the comparison measures.
"""

from __future__ import annotations

import copy
from pathlib import Path

import torch
import torch.nn as nn
import torchvision.datasets as dset
import torchvision.transforms as transforms

from gan_lab.models.matmul_convs import DenseHead, DenseProjection

EXAMPLE_LAYER = {DenseProjection: nn.ConvTranspose2d, DenseHead: nn.Conv2d}


def with_example_layers(net: nn.Module) -> nn.Module:
    """net with each of gan-lab's matmul convs turned back into the nn conv it extends (no state of its own)."""
    for module in net.modules():
        if type(module) in EXAMPLE_LAYER:
            module.__class__ = EXAMPLE_LAYER[type(module)]
    return net


class ReferenceLoop:
    """One step = the example's D update on a real and a fake batch, then its G update."""

    def __init__(self, G: nn.Module, D: nn.Module, folder: Path, image_size: int, channels: int,
                 batch_size: int, latent_dim: int, device: torch.device, lr: float = 2e-4):  # fmt: skip
        steps = [transforms.Resize(image_size), transforms.CenterCrop(image_size)]
        if channels == 1:
            steps.append(transforms.Grayscale(1))
        steps += [transforms.ToTensor(), transforms.Normalize((0.5,) * channels, (0.5,) * channels)]
        dataset = dset.ImageFolder(root=str(folder), transform=transforms.Compose(steps))
        self.loader = torch.utils.data.DataLoader(dataset, batch_size=batch_size, shuffle=True, num_workers=2, drop_last=True)
        self.device = device
        contiguous = torch.contiguous_format  # the example never asks for channels_last
        self.netG = with_example_layers(copy.deepcopy(G)).to(device, memory_format=contiguous)
        self.netD = nn.Sequential(with_example_layers(copy.deepcopy(D)), nn.Flatten(0), nn.Sigmoid()).to(device, memory_format=contiguous)
        self.criterion = nn.BCELoss()
        self.optimizerD = torch.optim.Adam(self.netD.parameters(), lr=lr, betas=(0.5, 0.999), foreach=False)
        self.optimizerG = torch.optim.Adam(self.netG.parameters(), lr=lr, betas=(0.5, 0.999), foreach=False)
        self.latent_dim, self.batch_size = latent_dim, batch_size
        self._batches = iter(self.loader)

    def _next(self) -> torch.Tensor:
        try:
            return next(self._batches)[0]
        except StopIteration:
            self._batches = iter(self.loader)
            return next(self._batches)[0]

    def step(self) -> tuple[float, float]:
        real_cpu = self._next().to(self.device)
        b_size = real_cpu.size(0)
        # (1) Update D network: maximize log(D(x)) + log(1 - D(G(z)))
        self.netD.zero_grad()
        label = torch.full((b_size,), 1.0, device=self.device)
        output = self.netD(real_cpu)
        errD_real = self.criterion(output, label)
        errD_real.backward()
        D_x = output.mean().item()
        noise = torch.randn(b_size, self.latent_dim, device=self.device)
        fake = self.netG(noise)
        label.fill_(0.0)
        output = self.netD(fake.detach())
        errD_fake = self.criterion(output, label)
        errD_fake.backward()
        D_G_z1 = output.mean().item()
        errD = errD_real + errD_fake
        self.optimizerD.step()
        # (2) Update G network: maximize log(D(G(z)))
        self.netG.zero_grad()
        label.fill_(1.0)
        output = self.netD(fake)
        errG = self.criterion(output, label)
        errG.backward()
        D_G_z2 = output.mean().item()
        self.optimizerG.step()
        del D_x, D_G_z1, D_G_z2
        return errD.item(), errG.item()

    def close(self) -> None:
        del self._batches
