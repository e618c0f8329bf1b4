"""What the doctor's checks are called and the files it writes: shared by training and the report.

Kept free of torch so that `gan-lab doctor` starts fast.
"""

DIAGNOSES = "diagnoses.json"  # in the run directory: static findings and detector events, written live
PICTURE = "doctor.png"  # written by `gan-lab doctor` into the run or sweep directory

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
