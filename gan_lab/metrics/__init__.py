"""Metrics on batches of images that need no downloaded weights."""
