"""The names a config may choose from, kept free of heavy imports so validation runs before torch loads.

Each registry (data.DATASETS, models.MODELS, losses.LOSSES, ...) is checked against these names by the tests.
"""

DATASET_NAMES = ("cifar10", "image_folder", "mnist", "shapes")
MODEL_NAMES = ("dcgan", "dlwp", "mlp", "resnet")
UPSAMPLE_MODES = ("transpose", "nearest", "bilinear", "pixel_shuffle")
DOWNSAMPLE_MODES = ("stride", "avgpool")
NORMS = ("batch", "instance", "layer", "spectral", "none")
ACTIVATIONS = ("relu", "leaky_relu", "elu", "gelu", "silu", "tanh", "sigmoid", "none")
INITS = ("dcgan", "normal_1", "xavier", "default")
LATENT_DISTS = ("normal", "uniform")
LOSS_NAMES = ("bce", "minimax", "lsgan", "hinge", "wgan_gp", "rpgan")
LABEL_LOSSES = ("bce", "minimax", "lsgan")  # losses with real/fake targets, where label tricks apply
OPTIMIZER_NAMES = ("adam", "rmsprop", "sgd")
PRECISIONS = ("auto", "fp32", "bf16")
NAN_POLICIES = ("stop", "skip_step")
SHAPES_BACKGROUNDS = ("black", "white", "random")
IMAGE_SIZES = (16, 32, 64, 128)
AUGMENT_NAMES = ("none", "diffaug", "ada")  # augment=: off, fixed p, adaptive p
AUGMENT_POLICIES = ("flip", "color", "translation", "cutout")
REG_NAMES = ("none", "r1", "r1_r2")  # reg=: zero-centred gradient penalties on D
