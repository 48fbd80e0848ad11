"""Bubble econometrics: PSY recursive ADF tests (psy), LPPLS fits and confidence (lppls), the
Greenwood-Shleifer-You run-up rule (runup) and the universe sweep over one executor interface (sweep)."""
