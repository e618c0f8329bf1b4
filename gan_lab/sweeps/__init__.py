"""Multirun sweeps: job names, the per-job record, the sweep index and TensorBoard HParams.

job_names.py  `<num>_<swept overrides>` folder names (the ${gan_lab_job_name:} resolver)
callback.py   a failing job is recorded and the sweep goes on; the Hydra callback writing the index
index.py      sweep.csv and sweep.json: one row per job
hparams.py    each job's HParams session for TensorBoard
"""
