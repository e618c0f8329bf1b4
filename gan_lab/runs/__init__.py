"""The run directory, the contract between `train` and every command after it.

layout.py       every file and folder name of a run and a sweep, and how each is read and written
checkpoint.py   atomic checkpoint writes and safe (weights_only) loads
tensorboard.py  writing the run's TensorBoard event files and image grids
trained.py      a trained run's G and D, loaded from a checkpoint for the commands
"""
