"""The training loop and what only it uses.

trainer.py        the Trainer: D and G steps, logging, samples, checkpoints (read it top to bottom)
losses.py         GAN losses and the gradient penalty
label_tricks.py   D's targets: soft, noisy and flipped labels; instance noise
optimizers.py     optimisers, gradient clipping and per-layer gradient norms
ema.py            the EMA copy of G
nonfinite.py      what happens when a loss or weight goes non-finite (trainer.on_nan)
signals.py        Ctrl-C / SIGTERM: finish the step, checkpoint, stop
compiled.py       trainer.compile: compiled modules, and the eager fallback when compiling fails
state.py          what a checkpoint holds for the trainer, and restoring it
device.py         the device, precision and random seeds of a process
distributed.py    torchrun data-parallel training
resume.py         resume=: which checkpoint, which overrides may change
periodic_eval.py  FID/KID during training (trainer.eval_every) and checkpoints/best.pt
progress.py       the console progress line
"""
