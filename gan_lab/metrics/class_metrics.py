"""`metrics.classifier=true`: which classes a run's samples fall into, under a small CNN trained on the labels."""

from __future__ import annotations

from pathlib import Path

import torch
from omegaconf import DictConfig

from gan_lab.data.labelled import LABELLED, load_labelled, subset
from gan_lab.errors import UserError
from gan_lab.metrics.classifier import SmallCNN, accuracy, class_histogram, fit, predict


def class_metrics(cfg: DictConfig, fake: torch.Tensor, m: DictConfig, data_dir: Path, seed: int, device) -> dict:
    """Class histogram of generated images under a small CNN trained on the dataset's labels."""
    name = cfg.dataset.name
    if name not in LABELLED:
        raise UserError(
            f"metrics.classifier=true needs a labelled dataset ({', '.join(LABELLED)}); this run trained on {name}"
        )
    size, channels = cfg.dataset.image_size, cfg.dataset.channels
    train_x, train_y, names = load_labelled(name, data_dir, True, size, channels)
    train_x, train_y = subset(train_x, train_y, m.classifier_train, seed)
    test_x, test_y, _ = load_labelled(name, data_dir, False, size, channels)
    test_x, test_y = subset(test_x, test_y, 2000, seed)
    torch.manual_seed(seed)
    model = fit(SmallCNN(channels, len(names)), train_x, train_y, m.classifier_epochs, device, seed=seed)
    histogram = class_histogram(predict(model, fake, device), len(names))
    return {
        "classifier_accuracy": accuracy(model, test_x, test_y, device),
        "class_histogram": dict(zip(names, histogram)),
    }
