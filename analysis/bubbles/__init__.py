"""Bubble econometrics: recursive right-tailed unit-root tests (:mod:`analysis.bubbles.psy`)."""
