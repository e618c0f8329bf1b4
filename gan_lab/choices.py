"""The names a config may choose from, kept free of heavy imports so validation runs before torch loads.

Each registry (data.DATASETS, models.MODELS, ...) is checked against these names by the tests.
"""

DATASET_NAMES = ("cifar10", "image_folder", "mnist", "shapes")
MODEL_NAMES = ("dcgan",)
UPSAMPLE_MODES = ("transpose", "nearest")
LOSS_NAMES = ("bce",)
OPTIMIZER_NAMES = ("adam",)
PRECISIONS = ("auto", "fp32", "bf16")
SHAPES_BACKGROUNDS = ("black", "white", "random")
IMAGE_SIZES = (16, 32, 64, 128)
