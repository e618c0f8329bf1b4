"""Precision and recall (torch-fidelity's computation): realistic but collapsed vs spread but off the data."""

from __future__ import annotations

import pytest
import torch

from gan_lab.metrics.precision_recall import precision_recall


def test_same_set_is_perfect_and_collapse_loses_recall_not_precision():
    real = torch.randn(200, 8, generator=torch.Generator().manual_seed(0))
    assert precision_recall(real, real) == {"precision": 1.0, "recall": 1.0}
    collapsed = real[:5].repeat(40, 1)  # every sample a copy of one of 5 real images
    pr = precision_recall(collapsed, real)
    assert pr["precision"] == 1.0 and pr["recall"] < 0.2


def test_samples_off_the_data_have_no_precision():
    real = torch.randn(200, 8, generator=torch.Generator().manual_seed(0))
    far = torch.randn(200, 8, generator=torch.Generator().manual_seed(1)) + 50
    assert precision_recall(far, real) == {"precision": 0.0, "recall": 0.0}
    with pytest.raises(ValueError, match="more than 3"):
        precision_recall(real[:3], real)
