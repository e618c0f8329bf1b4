"""One module per `gan-lab <command>`, each with `main(args) -> int`; nothing outside this package imports them.

train.py        compose the config with Hydra and train (single runs and -m sweeps)
board.py        start TensorBoard on runs or sweeps
doctor.py       one verdict per classic GAN failure, and doctor.png
compare.py      rank runs by a metric; compare.png side by side
generate.py     sample a checkpoint into samples.npz and a grid
evaluate.py     FID, KID, IS, checkerboard and diversity into metrics.json
interpolate.py  latent walks and vector arithmetic
probe.py        D as a feature extractor: linear-probe accuracy
run_options.py  the checkpoint= and device= options every command that loads a run shares
"""
