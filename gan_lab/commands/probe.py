"""`gan-lab probe <run dir>`: the DCGAN paper's test of D as a feature extractor.

Every conv layer of D is max-pooled to 4 x 4 (smaller maps stay as they are), the results are
concatenated and standardised, and a linear classifier is trained on a labelled dataset (MNIST or
CIFAR-10 train split, resized to the run's image size). Its test accuracy is reported next to the
same probe on a randomly initialised D of the same architecture: what training taught D.
"""

from __future__ import annotations

from pathlib import Path

from gan_lab.commands.run_options import CHECKPOINT, DEVICE, open_run
from gan_lab.config.choices import LABELLED_DATASETS
from gan_lab.config.options import Option, entry_point, integer, optional_text, path
from gan_lab.errors import UserError
from gan_lab.runs.layout import display_path, write_probe
OPTIONS = [
    Option(
        "dataset",
        optional_text,
        None,
        f"{' or '.join(LABELLED_DATASETS)} (default: the run's dataset when labelled, else mnist)",
    ),
    Option("subset", integer(10), 10000, "training images of the probe (a seeded subset of the train split)"),
    Option("test_subset", integer(10), 10000, "test images (a seeded subset of the test split)"),
    Option("epochs", integer(1), 30, "training epochs of the linear classifier"),
    Option("seed", integer(0), 0, "seed of the subsets, the random D and the classifier"),
    CHECKPOINT,
    DEVICE,
    Option("data_dir", path, None, "where MNIST / CIFAR-10 are (default: the run's paths.data_dir)"),
]
SUMMARY = (
    "Linear-probe test accuracy of D's conv features (each layer max-pooled to 4x4) on MNIST or CIFAR-10,\n"
    "next to the same probe on a randomly initialised D. Writes probe.json and probe/* TensorBoard scalars."
)


def run(args: list[str]) -> int:
    opened = open_run("probe", args, OPTIONS, SUMMARY)
    if opened is None:
        return 0
    o, loaded = opened
    import torch  # after the options: a refused one costs no torch import

    from gan_lab.data.labelled import load_labelled, subset
    from gan_lab.metrics.linear_probe import d_features, linear_probe
    from gan_lab.models import build_models
    from gan_lab.runs.tensorboard import RunWriter

    cfg = loaded.cfg
    name = o["dataset"] or (cfg.dataset.name if cfg.dataset.name in LABELLED_DATASETS else "mnist")
    if name not in LABELLED_DATASETS:
        raise UserError(f"gan-lab probe: dataset={name} must be one of {', '.join(LABELLED_DATASETS)}")
    data_dir = o["data_dir"] or Path(str(cfg.paths.data_dir)).expanduser()
    size, channels = cfg.dataset.image_size, cfg.dataset.channels
    train_x, train_y, names = load_labelled(name, data_dir, True, size, channels)
    test_x, test_y, _ = load_labelled(name, data_dir, False, size, channels)
    train_x, train_y = subset(train_x, train_y, o["subset"], o["seed"])
    test_x, test_y = subset(test_x, test_y, o["test_subset"], o["seed"])

    torch.manual_seed(o["seed"])
    random_D = build_models(cfg)[1].to(loaded.device)
    results = {}
    for label, D in (("trained", loaded.D), ("random", random_D)):
        train_f, test_f = d_features(D, train_x, loaded.device), d_features(D, test_x, loaded.device)
        results[label] = linear_probe(
            train_f, train_y, test_f, test_y, len(names), o["epochs"], o["seed"], loaded.device
        )

    record = {
        "checkpoint": display_path(loaded.checkpoint), "step": loaded.step, "dataset": name,
        "image_size": size, "channels": channels, "num_train": len(train_x), "num_test": len(test_x),
        "features": int(train_f.shape[1]), "epochs": o["epochs"], "seed": o["seed"],
        "accuracy_trained_D": results["trained"], "accuracy_random_D": results["random"],
    }  # fmt: skip
    probe_file = write_probe(loaded.run_dir, record)
    writer = RunWriter(loaded.run_dir)
    writer.scalars(
        loaded.step, {"probe/accuracy_trained_D": results["trained"], "probe/accuracy_random_D": results["random"]}
    )
    writer.close()
    print(
        f"linear probe of D from {loaded.describe('D')} on {name} at {size} px ({channels} channel(s)): "
        f"{len(train_x)} train / {len(test_x)} test images, {train_f.shape[1]} features\n"
        f"  test accuracy, trained D  {results['trained']:.2%}\n"
        f"  test accuracy, random D   {results['random']:.2%}\n"
        f"wrote {display_path(probe_file)} and probe/* scalars at step {loaded.step} in TensorBoard"
    )
    return 0


main = entry_point(run)
