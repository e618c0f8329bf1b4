"""Datasets read by the real torchvision classes from small files written here in their real formats."""

from __future__ import annotations

import pickle
import struct
from pathlib import Path

import numpy as np
import pytest
import torch
import torchvision
from omegaconf import OmegaConf
from PIL import Image

from gan_lab.data import build_image_source, load_images
from gan_lab.data.shapes import draw_shapes
from gan_lab.data.source import PreloadedImages, StreamedImages
from gan_lab.data.transforms import to_unit_range
from gan_lab.errors import UserError


def make_cfg(dataset: dict, **trainer) -> OmegaConf:
    return OmegaConf.create(
        {
            "dataset": dataset,
            "trainer": {"batch_size": 8, "seed": 0, "preload_max_mb": 2048, "num_workers": 0, **trainer},
            "paths": {"data_dir": "/nonexistent"},
        }
    )


# ---------------------------------------------------------------- shapes
@pytest.mark.parametrize("size,channels", [(16, 1), (32, 3), (128, 1)])
def test_shapes_sizes_channels_and_content(size, channels):
    images = draw_shapes(20, size, channels, seed=1)
    assert images.shape == (20, channels, size, size) and images.dtype == torch.uint8
    # every image holds a shape: more than one grey level and both dark and light areas
    spread = images.flatten(1).float()
    assert (spread.max(1).values - spread.min(1).values > 60).all()


def test_shapes_deterministic_for_a_seed():
    assert torch.equal(draw_shapes(30, 32, 3, seed=5), draw_shapes(30, 32, 3, seed=5))
    assert not torch.equal(draw_shapes(30, 32, 3, seed=5), draw_shapes(30, 32, 3, seed=6))


def test_shapes_edges_are_antialiased():
    images = draw_shapes(50, 64, 1, seed=0, rotate=True).float()
    # anti-aliasing leaves intermediate values on edges, not just the background and shape colours
    per_image_levels = [len(torch.unique(im)) for im in images]
    assert min(per_image_levels) > 5
    upright = draw_shapes(50, 64, 1, seed=0).float()
    assert min(len(torch.unique(im)) for im in upright) >= 3


# ---------------------------------------------------------------- MNIST
def write_mnist(root: Path, n: int = 40) -> torch.Tensor:
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
    labels = (np.arange(n) % 10).astype(np.uint8)
    for split in ("train", "t10k"):  # torchvision wants both splits present
        (raw / f"{split}-images-idx3-ubyte").write_bytes(struct.pack(">IIII", 2051, n, 28, 28) + images.tobytes())
        (raw / f"{split}-labels-idx1-ubyte").write_bytes(struct.pack(">II", 2049, n) + labels.tobytes())
    return torch.from_numpy(images)


def test_mnist_read_by_torchvision_and_resized(tmp_path):
    written = write_mnist(tmp_path)
    cfg = make_cfg({"name": "mnist", "image_size": 32, "channels": 1, "classes": None, "download": False})
    images = load_images(cfg.dataset, tmp_path)
    assert images.shape == (40, 1, 32, 32) and images.dtype == torch.uint8
    same = load_images(OmegaConf.merge(cfg.dataset, {"image_size": 28}), tmp_path)
    assert torch.equal(same[:, 0], written)


def test_mnist_class_filter(tmp_path):
    write_mnist(tmp_path)
    ds = OmegaConf.create({"name": "mnist", "image_size": 28, "channels": 1, "classes": [3, 7], "download": False})
    assert load_images(ds, tmp_path).shape[0] == 8


def test_mnist_missing_files_say_where(tmp_path):
    ds = OmegaConf.create({"name": "mnist", "image_size": 32, "channels": 1, "classes": None, "download": False})
    with pytest.raises(UserError) as info:
        load_images(ds, tmp_path)
    message = str(info.value)
    assert str(tmp_path / "MNIST" / "raw") in message and "t10k-labels-idx1-ubyte" in message
    assert "\n" not in message


# ---------------------------------------------------------------- CIFAR-10
def write_cifar10(root: Path, per_batch: int = 20) -> None:
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        batch = {
            "data": rng.integers(0, 256, (per_batch, 3072), dtype=np.uint8),
            "labels": [int(i % 10) for i in range(per_batch)],
        }
        (folder / name).write_bytes(pickle.dumps(batch))
    names = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
    (folder / "batches.meta").write_bytes(pickle.dumps({"label_names": names}))


@pytest.fixture
def cifar_root(tmp_path, monkeypatch):
    """Small CIFAR-10 files; torchvision's md5 checks are for the real archive, so they are bypassed."""
    write_cifar10(tmp_path)
    monkeypatch.setattr(torchvision.datasets.CIFAR10, "_check_integrity", lambda self: True)
    monkeypatch.setattr(torchvision.datasets.cifar, "check_integrity", lambda *a, **k: True)
    return tmp_path


def test_cifar10_frog_by_name_and_index(cifar_root):
    by_name = {"name": "cifar10", "image_size": 32, "channels": 3, "classes": ["frog"], "download": False}
    frogs = load_images(OmegaConf.create(by_name), cifar_root)
    assert frogs.shape == (5 * 2, 3, 32, 32)  # 2 frogs (label 6) in each of 5 training batches
    by_index = load_images(OmegaConf.create({**by_name, "classes": [6]}), cifar_root)
    assert torch.equal(frogs, by_index)
    everything = load_images(OmegaConf.create({**by_name, "classes": None}), cifar_root)
    assert everything.shape[0] == 100


def test_cifar10_grayscale_and_resize(cifar_root):
    ds = {"name": "cifar10", "image_size": 16, "channels": 1, "classes": [0, "bird"], "download": False}
    images = load_images(OmegaConf.create(ds), cifar_root)
    assert images.shape == (20, 1, 16, 16)


def test_cifar10_unknown_class_names_the_ten(cifar_root):
    ds = {"name": "cifar10", "image_size": 32, "channels": 3, "classes": ["forg"], "download": False}
    with pytest.raises(UserError) as info:
        load_images(OmegaConf.create(ds), cifar_root)
    message = str(info.value)
    assert "did you mean frog?" in message and "airplane" in message and "truck" in message


def test_cifar10_missing_files_say_where(tmp_path):
    ds = {"name": "cifar10", "image_size": 32, "channels": 3, "classes": None, "download": False}
    with pytest.raises(UserError, match="cifar-10-batches-py"):
        load_images(OmegaConf.create(ds), tmp_path)


# ---------------------------------------------------------------- image folders
def write_images(folder: Path) -> int:
    """A mix of formats, modes and sizes in nested folders; returns how many."""
    rng = np.random.default_rng(0)
    (folder / "nested" / "deeper").mkdir(parents=True)
    rgb = lambda h, w: Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8))  # noqa: E731
    rgb(40, 60).save(folder / "a.png")
    rgb(64, 64).save(folder / "b.jpg", quality=90)
    rgb(30, 30).convert("L").save(folder / "nested" / "c.png")
    rgb(50, 20).convert("RGBA").save(folder / "nested" / "d.PNG")
    rgb(33, 33).convert("P").save(folder / "nested" / "deeper" / "e.bmp")
    Image.fromarray(rng.integers(0, 65535, (32, 32), dtype=np.uint16)).save(folder / "f16.png")
    (folder / "notes.txt").write_text("not an image")
    return 6


@pytest.mark.parametrize("channels", [1, 3])
def test_image_folder_preloaded(tmp_path, channels):
    count = write_images(tmp_path)
    cfg = make_cfg({"name": "image_folder", "path": str(tmp_path), "image_size": 32, "channels": channels}, batch_size=4)
    source = build_image_source(cfg, torch.device("cpu"))
    assert isinstance(source, PreloadedImages) and len(source) == count
    batch = source.next_batch()
    assert batch.shape == (4, channels, 32, 32) and batch.dtype == torch.uint8


def test_image_folder_streams_above_the_budget(tmp_path):
    count = write_images(tmp_path)
    cfg = make_cfg({"name": "image_folder", "path": str(tmp_path), "image_size": 16, "channels": 3}, batch_size=3, preload_max_mb=0)
    source = build_image_source(cfg, torch.device("cpu"))
    assert isinstance(source, StreamedImages) and len(source) == count
    batches = [source.next_batch() for _ in range(5)]  # crosses an epoch boundary
    assert all(b.shape == (3, 3, 16, 16) for b in batches)
    assert source.preview(4).shape == (4, 3, 16, 16)


def test_image_folder_errors(tmp_path):
    cfg = make_cfg({"name": "image_folder", "path": str(tmp_path / "missing"), "image_size": 32, "channels": 3})
    with pytest.raises(UserError, match="does not exist"):
        build_image_source(cfg, torch.device("cpu"))
    (tmp_path / "empty").mkdir()
    cfg.dataset.path = str(tmp_path / "empty")
    with pytest.raises(UserError, match="holds no images"):
        build_image_source(cfg, torch.device("cpu"))


def test_batches_are_shuffled_epochs_and_normalised():
    images = torch.arange(10, dtype=torch.uint8).view(10, 1, 1, 1).expand(10, 1, 2, 2).contiguous()
    source = PreloadedImages(images, batch_size=5, seed=0, device=torch.device("cpu"))
    epoch = torch.cat([source.next_batch(), source.next_batch()])[:, 0, 0, 0]
    assert sorted(epoch.tolist()) == list(range(10))
    unit = to_unit_range(torch.tensor([0, 255], dtype=torch.uint8))
    assert unit.tolist() == [-1.0, 1.0]


def test_batch_larger_than_dataset_is_an_error():
    with pytest.raises(UserError, match="trainer.batch_size=20 is larger than the dataset"):
        PreloadedImages(torch.zeros(10, 1, 4, 4, dtype=torch.uint8), 20, 0, torch.device("cpu"))


def test_corrupt_and_truncated_files_are_skipped_and_counted_once(tmp_path, caplog):
    count = write_images(tmp_path)
    whole = (tmp_path / "b.jpg").read_bytes()
    (tmp_path / "truncated.jpg").write_bytes(whole[: len(whole) // 3])
    (tmp_path / "garbage.png").write_bytes(b"\x89PNG not really")
    cfg = make_cfg({"name": "image_folder", "path": str(tmp_path), "image_size": 16, "channels": 3}, batch_size=4)
    with caplog.at_level("WARNING"):
        source = build_image_source(cfg, torch.device("cpu"))
    assert len(source) == count
    warnings = [r.message for r in caplog.records if "skipped" in r.message]
    assert warnings == [f"warning: skipped 2 of {count + 2} image files in {tmp_path} that could not be decoded"]


def test_streamed_folder_resumes_at_the_same_batch(tmp_path):
    write_images(tmp_path)
    cfg = make_cfg({"name": "image_folder", "path": str(tmp_path), "image_size": 8, "channels": 1}, batch_size=2, preload_max_mb=0)
    straight = build_image_source(cfg, torch.device("cpu"))
    resumed = build_image_source(cfg, torch.device("cpu"))
    for _ in range(4):  # into the second epoch (3 batches each)
        straight.next_batch()
    resumed.load_state_dict(straight.state_dict())
    for _ in range(5):
        assert torch.equal(straight.next_batch(), resumed.next_batch())
