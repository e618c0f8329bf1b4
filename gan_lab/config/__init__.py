"""Configs: the packaged YAML groups, the names they may choose from, and the checks of what a user typed.

packaged.py   where conf/ lives; the groups and their options
choices.py    the names a config may choose from (kept free of torch)
options.py    key=value option parsing shared by the commands after `train` and by metrics/
preflight.py  checks of the command line, before Hydra composes or writes anything
validate.py   checks of the composed config values, before torch loads
"""
