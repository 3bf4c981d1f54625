"""Experiments run by the ``minimax`` console script; each module has ``add_arguments`` and ``main``."""
