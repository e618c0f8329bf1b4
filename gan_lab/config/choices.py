"""The names a config may choose from, kept free of heavy imports so validation runs before torch loads.

Each registry (data.DATASETS, models.MODELS, losses.LOSSES, ...) is checked against these names by the tests;
KEY_CHOICES is what shell completion offers after `key=` (tests check each key exists in conf/).
"""

DATASET_NAMES = ("cifar10", "image_folder", "mnist", "shapes")
LABELLED_DATASETS = ("mnist", "cifar10")  # datasets with class labels: evaluate's classifier, probe
MODEL_NAMES = ("dcgan", "dlwp", "mlp", "resnet")
UPSAMPLE_MODES = ("transpose", "nearest", "bilinear", "pixel_shuffle")
DOWNSAMPLE_MODES = ("stride", "avgpool")
NORMS = ("batch", "instance", "layer", "spectral", "none")
G_NORMS = tuple(n for n in NORMS if n != "spectral")
ACTIVATIONS = ("relu", "leaky_relu", "elu", "gelu", "silu", "tanh", "sigmoid", "none")
OUTPUTS = ("tanh", "sigmoid", "none")
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
DEVICES = ("auto", "cpu", "cuda")
BEST_BY = ("fid", "kid")  # metrics.best: lower is better for both

# key -> the values shell completion offers after `key=` (the union over the models that have the key)
KEY_CHOICES = {
    "dataset.image_size": IMAGE_SIZES,
    "dataset.channels": (1, 3),
    "dataset.background": SHAPES_BACKGROUNDS,
    "model.latent_dist": LATENT_DISTS,
    "model.kernel_size": tuple(range(2, 8)),
    "model.upsample": UPSAMPLE_MODES,
    "model.downsample": DOWNSAMPLE_MODES,
    "model.norm_G": G_NORMS,
    "model.norm_D": NORMS,
    "model.g_activation": ACTIVATIONS,
    "model.d_activation": ACTIVATIONS,
    "model.g_output": OUTPUTS,
    "model.d_output": ("none", "sigmoid"),
    "model.init": INITS,
    "trainer.device": DEVICES,
    "trainer.on_nan": NAN_POLICIES,
    "trainer.precision": PRECISIONS,
    "metrics.best": BEST_BY,
}
