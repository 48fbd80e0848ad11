"""Bubble econometrics: PSY recursive ADF tests (psy), LPPLS fits and confidence (lppls, compiled
core in _lppls_core, fit cache in fitcache), the LPPLS trust indicator (trust), the
Greenwood-Shleifer-You run-up rule (runup), the 0-100 market bubble signal over time (signal), its
calibration on past bubbles (calibration) and the universe sweep over one executor interface (sweep)."""
