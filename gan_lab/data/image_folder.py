"""Every image under a folder, decoded to uint8 tensors of one size and channel count."""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from pathlib import Path

import torch
from PIL import Image, UnidentifiedImageError

from gan_lab.data.transforms import pil_to_tensor
from gan_lab.errors import UserError

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".webp")
log = logging.getLogger(__name__)


def list_images(folder: Path) -> list[Path]:
    """All image files under `folder` (recursive, sorted so the order is the same everywhere)."""
    if not folder.exists():
        raise UserError(f"dataset.path={folder} does not exist; point it at a folder of images")
    if not folder.is_dir():
        raise UserError(f"dataset.path={folder} is not a folder; point it at a folder of images")
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_EXTENSIONS and p.is_file())
    if not files:
        raise UserError(
            f"dataset.path={folder} holds no images; expected files ending in {', '.join(IMAGE_EXTENSIONS)}"
        )
    return files


@dataclass
class Unreadable:
    """A file that could not be decoded: skipped (corrupt, truncated), or fatal (a decompression bomb).

    Returned rather than raised so that DataLoader workers hand it back to the main process intact.
    """

    reason: str
    fatal: bool = False

    def raise_if_fatal(self) -> None:
        if self.fatal:
            raise UserError(self.reason)


def decode_image(path: Path, image_size: int, channels: int) -> torch.Tensor | Unreadable:
    """One file -> uint8 C x S x S, or Unreadable with the reason."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                image.load()
                return pil_to_tensor(image, image_size, channels)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        limit = Image.MAX_IMAGE_PIXELS
        return Unreadable(
            f"{path} is too large to decode safely ({' '.join(str(error).split()[:4])} ..., PIL's limit is "
            f"{limit:,} pixels); resize or remove it",
            fatal=True,
        )
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as error:
        return Unreadable(f"{path}: {error}")


def readable(items) -> list[torch.Tensor]:
    """The decoded images among items; a fatal Unreadable raises its UserError."""
    found = []
    for item in items:
        if isinstance(item, Unreadable):
            item.raise_if_fatal()
        else:
            found.append(item)
    return found


class ImageFileDataset(torch.utils.data.Dataset):
    """Map-style dataset of image files; yields uint8 C x S x S tensors (Unreadable for bad files)."""

    def __init__(self, files: list[Path], image_size: int, channels: int):
        self.files, self.image_size, self.channels = files, image_size, channels

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, index: int) -> torch.Tensor | Unreadable:
        return decode_image(self.files[index], self.image_size, self.channels)


def report_unreadable(bad: int, total: int, folder: Path) -> None:
    """Warn once about skipped files; every file unreadable is an error."""
    if bad == total:
        raise UserError(f"dataset.path={folder}: none of its {total} image files could be decoded")
    if bad:
        log.warning(f"warning: skipped {bad} of {total} image files in {folder} that could not be decoded")
