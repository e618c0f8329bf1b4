"""Datasets: each `dataset=<name>` option becomes a source of uint8 image batches on the device."""

from __future__ import annotations

import logging
from pathlib import Path

import torch
from omegaconf import DictConfig

from gan_lab.data.image_folder import ImageFileDataset, list_images, readable, report_unreadable
from gan_lab.data.shapes import draw_shapes
from gan_lab.data.source import PreloadedImages, StreamedImages, ignore_interrupts
from gan_lab.data.torchvision_sets import load_cifar10, load_mnist
from gan_lab.data.transforms import fit_images, to_unit_range
from gan_lab.errors import UserError

__all__ = ["DATASETS", "build_image_source", "load_images", "real_images", "to_unit_range"]
log = logging.getLogger(__name__)


def _shapes(ds: DictConfig, data_dir: Path) -> torch.Tensor:
    return draw_shapes(ds.num_images, ds.image_size, ds.channels, ds.seed, ds.max_shapes, ds.background, ds.rotate)


def _mnist(ds: DictConfig, data_dir: Path) -> torch.Tensor:
    images = load_mnist(data_dir, ds.get("train", True), ds.download, ds.get("classes"))
    return fit_images(images, ds.image_size, ds.channels)


def _cifar10(ds: DictConfig, data_dir: Path) -> torch.Tensor:
    images = load_cifar10(data_dir, ds.get("train", True), ds.download, ds.get("classes"))
    return fit_images(images, ds.image_size, ds.channels)


def _image_folder(ds: DictConfig, data_dir: Path) -> list[Path]:
    return list_images(Path(ds.path).expanduser())


# name -> loader returning either a uint8 N x C x H x W tensor or a list of image files
DATASETS = {"shapes": _shapes, "mnist": _mnist, "cifar10": _cifar10, "image_folder": _image_folder}


def load_images(ds: DictConfig, data_dir: Path) -> torch.Tensor | list[Path]:
    """The dataset's images: a uint8 tensor, or the list of files for `image_folder`."""
    return DATASETS[ds.name](ds, data_dir)


def build_image_source(
    cfg: DictConfig, device: torch.device, shard: tuple[int, int] = (0, 1)
) -> PreloadedImages | StreamedImages:
    """The configured dataset as a batch source: in memory when it fits the preload budget, else streamed.

    shard=(rank, world size): under torchrun each rank draws its own part of every epoch.
    """
    ds, trainer = cfg.dataset, cfg.trainer
    images = load_images(ds, Path(str(cfg.paths.data_dir)).expanduser())
    seed = trainer.seed + 1  # the data order has its own stream, independent of the latent noise
    images, holdout = split_holdout(images, ds.get("holdout") or 0)
    source = _source(images, cfg, device, shard, seed)
    if holdout is not None:
        source.holdout = holdout if isinstance(holdout, torch.Tensor) else _decode_all(
            ImageFileDataset(holdout, ds.image_size, ds.channels), Path(ds.path), 0)
    return source


def split_holdout(images: torch.Tensor | list[Path], count: int):
    """(training images, `dataset.holdout` held-out images or None): a fixed random split, the same for every seed.

    The held-out images never reach training; the doctor compares D's outputs on them with its outputs on
    training images (D overfits, gan_lab/doctor/overfitting.py).
    """
    if not count:
        return images, None
    if count >= len(images):
        raise UserError(f"dataset.holdout={count} leaves no training images (the dataset has {len(images)}); use fewer")
    order = torch.randperm(len(images), generator=torch.Generator().manual_seed(0))
    held, kept = order[:count].sort().values, order[count:].sort().values
    if isinstance(images, torch.Tensor):
        return images[kept], images[held]
    return [images[i] for i in kept.tolist()], [images[i] for i in held.tolist()]


def _source(images, cfg: DictConfig, device: torch.device, shard: tuple[int, int], seed: int):
    ds, trainer = cfg.dataset, cfg.trainer
    if isinstance(images, torch.Tensor):
        return PreloadedImages(images, trainer.batch_size, seed, device, shard)

    dataset = ImageFileDataset(images, ds.image_size, ds.channels)
    size_mb = len(images) * ds.channels * ds.image_size**2 / 2**20
    if size_mb <= trainer.preload_max_mb:
        decoded = _decode_all(dataset, Path(ds.path), trainer.num_workers)
        return PreloadedImages(decoded, trainer.batch_size, seed, device, shard)
    log.info(
        f"streaming {len(images)} images from {ds.path} ({size_mb:.0f} MB decoded > "
        f"trainer.preload_max_mb={trainer.preload_max_mb})"
    )
    return StreamedImages(dataset, trainer.batch_size, seed, device, trainer.num_workers, shard)


def _decode_all(dataset: ImageFileDataset, folder: Path, num_workers: int) -> torch.Tensor:
    """Decode every file once, in parallel workers, into one uint8 tensor."""
    log.info(f"decoding {len(dataset)} images from {folder} into memory")
    loader = torch.utils.data.DataLoader(
        dataset, batch_size=64, num_workers=num_workers, collate_fn=list, worker_init_fn=ignore_interrupts
    )
    decoded = [image for batch in loader for image in readable(batch)]
    report_unreadable(len(dataset) - len(decoded), len(dataset), folder)
    return torch.stack(decoded)


def real_images(cfg: DictConfig, count: int, seed: int, data_dir: Path) -> torch.Tensor:
    """A seeded random subset of at most `count` of the run's training images (uint8 N x C x H x W)."""
    ds = cfg.dataset
    found = load_images(ds, data_dir)
    pick = torch.randperm(len(found), generator=torch.Generator().manual_seed(seed))[:count]
    if isinstance(found, torch.Tensor):
        return found[pick]
    files = [found[i] for i in pick.tolist()]
    decoded = readable(ImageFileDataset(files, ds.image_size, ds.channels)[i] for i in range(len(files)))
    report_unreadable(len(files) - len(decoded), len(files), Path(ds.path))
    return torch.stack(decoded)
