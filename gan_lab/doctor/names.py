"""What the doctor's checks are called: shared by training and the report.

Kept free of torch so that `gan-lab doctor` starts fast.
"""

# Every check before training: name -> title, in report order.
STATIC_CHECKS = {
    "kernel_stride": "kernel vs stride",
    "output_range": "G's output range",
    "double_sigmoid": "double sigmoid",
    "linear_stack": "stacked linear layers",
    "init_scale": "initialisation scale",
    "norm_placement": "BatchNorm placement",
    "wgan_batchnorm": "BatchNorm under WGAN-GP",
}
