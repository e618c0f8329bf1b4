"""gan-lab: a config-driven lab bench for GAN experiments."""

__version__ = "0.1.0"
