"""Sources of uint8 image batches on the training device: preloaded in memory, or streamed from disk."""

from __future__ import annotations

import signal

import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from gan_lab.data.image_folder import readable
from gan_lab.errors import UserError


def check_batch_size(batch_size: int, num_images: int) -> None:
    if num_images < 2:
        raise UserError(
            f"the dataset holds {num_images} image; training needs at least 2 (the doctor compares the "
            "samples' diversity with the data's); add images"
        )
    if batch_size > num_images:
        raise UserError(
            f"trainer.batch_size={batch_size} is larger than the dataset ({num_images} images); "
            f"use at most {num_images}"
        )


class PreloadedImages:
    """Every image in one uint8 N x C x H x W tensor on the device, served in reshuffled epochs.

    Batches are index lookups on the device: no decoding, no host-device copies, no syncs.
    """

    def __init__(self, images: torch.Tensor, batch_size: int, seed: int, device: torch.device,
                 shard: tuple[int, int] = (0, 1)):  # fmt: skip
        self.rank, self.world = shard  # under torchrun each rank takes every world-th image of an epoch
        check_batch_size(batch_size, len(images) // self.world)
        self.images = images.to(device)
        self.batch_size = batch_size
        self.generator = torch.Generator().manual_seed(seed)
        self.order: torch.Tensor | None = None
        self.position = 0

    def __len__(self) -> int:
        return len(self.images)

    def preview(self, n: int) -> torch.Tensor:
        """The first n images (for the 'real' grid), without touching the training order."""
        return self.images[:n]

    def next_batch(self) -> torch.Tensor:
        if self.order is None or self.position + self.batch_size > len(self.order):
            order = torch.randperm(len(self.images), generator=self.generator)[self.rank :: self.world]
            self.order = order.to(self.images.device)
            self.position = 0
        index = self.order[self.position : self.position + self.batch_size]
        self.position += self.batch_size
        return self.images[index]

    def state_dict(self) -> dict:
        return {"generator": self.generator.get_state(), "order": self.order, "position": self.position}

    def load_state_dict(self, state: dict) -> None:
        self.generator.set_state(state["generator"])
        self.order = None if state["order"] is None else state["order"].to(self.images.device)
        self.position = state["position"]


def _stack_readable(items: list):
    """Collate that drops files which could not be decoded; None when none could.

    A fatal Unreadable (decompression bomb) is passed on so the main process raises its error.
    """
    fatal = next((item for item in items if getattr(item, "fatal", False)), None)
    if fatal is not None:
        return fatal
    images = readable(items)
    return torch.stack(images) if images else None


def ignore_interrupts(worker_id: int) -> None:
    """DataLoader workers leave Ctrl-C to the main process, which finishes its step and saves."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class EpochBatches(Sampler):
    """Index batches of reshuffled epochs (the last partial batch dropped), resumable at any batch.

    Epoch e's order depends only on (seed, e), so a resumed run sees the batches the straight run saw.
    """

    def __init__(self, num_items: int, batch_size: int, seed: int, shard: tuple[int, int] = (0, 1)):
        self.num_items, self.batch_size, self.seed = num_items, batch_size, seed
        self.rank, self.world = shard
        self.epoch = self.start = 0  # where the next __iter__ begins

    def __len__(self) -> int:
        return self.num_items // self.world // self.batch_size

    def __iter__(self):
        generator = torch.Generator().manual_seed(self.seed * 1_000_003 + self.epoch)
        order = torch.randperm(self.num_items, generator=generator)[self.rank :: self.world]
        start, self.start = self.start, 0
        self.epoch += 1
        for batch in range(start, len(self)):
            yield order[batch * self.batch_size : (batch + 1) * self.batch_size].tolist()


class StreamedImages:
    """Images decoded on the fly by DataLoader workers, for folders above the preload budget."""

    def __init__(self, dataset: Dataset, batch_size: int, seed: int, device: torch.device, num_workers: int,
                 shard: tuple[int, int] = (0, 1)):  # fmt: skip
        check_batch_size(batch_size, len(dataset) // shard[1])
        self.device = device
        self.batches = EpochBatches(len(dataset), batch_size, seed, shard)
        self.loader = DataLoader(
            dataset,
            batch_sampler=self.batches,
            num_workers=num_workers,
            collate_fn=_stack_readable,
            worker_init_fn=ignore_interrupts,
            generator=torch.Generator().manual_seed(seed),
            pin_memory=device.type == "cuda",
            persistent_workers=num_workers > 0,
            prefetch_factor=4 if num_workers > 0 else None,
        )
        self._iterator = None
        self._epoch = self._batch = 0  # batches handed out so far in the current epoch

    def __len__(self) -> int:
        return len(self.loader.dataset)

    def preview(self, n: int) -> torch.Tensor:
        """The first n readable images (for the 'real' grid), without touching the training order."""
        dataset = self.loader.dataset
        images = (dataset[i] for i in range(len(dataset)))
        first = [image for image, _ in zip((im for im in images if isinstance(im, torch.Tensor)), range(n))]
        return torch.stack(first).to(self.device)

    def next_batch(self) -> torch.Tensor:
        while True:
            if self._iterator is None:
                self._epoch, self._batch = self.batches.epoch, self.batches.start
                self._iterator = iter(self.loader)
            try:
                batch = next(self._iterator)
            except StopIteration:
                self._iterator = None
                continue
            self._batch += 1
            if isinstance(batch, torch.Tensor):  # a batch of only undecodable files is skipped
                return batch.to(self.device, non_blocking=True)
            if batch is not None:
                batch.raise_if_fatal()

    def state_dict(self) -> dict:
        if self._iterator is None:
            return {"epoch": self.batches.epoch, "batch": self.batches.start}
        return {"epoch": self._epoch, "batch": self._batch}

    def load_state_dict(self, state: dict) -> None:
        self.batches.epoch, self.batches.start = int(state["epoch"]), int(state["batch"])
        self._iterator = None
