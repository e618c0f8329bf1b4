"""gan-lab's Hydra launcher plugin: `hydra/launcher=local_parallel` (see local_parallel.py)."""
