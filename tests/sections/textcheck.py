"""The check shared by every text test: each number in a generated sentence is a metric value."""

from __future__ import annotations

import json
import re

from analysis.display import pct, usd_bn

NUMBER = re.compile(r"[-+]?\$?\d[\d,]*(?:\.\d+)?(?:%| bn)?")
#: Fixed parts of sentences, not data: the score scale, interval levels, the back-test's thresholds.
SCALE_CONSTANTS = {"100", "90%", "95%", "50", "30%", "12"}


def _leaves(obj, out=None):
    out = [] if out is None else out
    if isinstance(obj, dict):
        for v in obj.values():
            _leaves(v, out)
    elif isinstance(obj, list):
        for v in obj:
            _leaves(v, out)
    else:
        out.append(obj)
    return out


def allowed_tokens(metrics: dict) -> set[str]:
    """Every way the text generators format a metric value (and the keys, which hold years)."""
    tokens = set()
    keys = json.dumps(metrics)
    tokens.update(re.findall(r"\d+", keys))  # years and dates appear as keys and values
    for v in _leaves(metrics):
        if isinstance(v, bool) or v is None:
            continue
        if isinstance(v, (int, float)):
            tokens.update({f"{v:.1f}", f"{v:+.1f}", f"{v:.2f}", f"{v:+.2f}", f"{v:.3f}", f"{v:.0f}", str(v),
                           pct(v), usd_bn(v), f"{v:.0%}"})
        else:
            tokens.update(re.findall(r"\d+", str(v)))
    return tokens


def assert_numbers_come_from(text: str, metrics: dict):
    allowed = allowed_tokens(metrics) | SCALE_CONSTANTS
    for token in NUMBER.findall(text):
        bare = token.lstrip("+").rstrip(".")
        candidates = {token, bare, bare.replace("$", "").replace(" bn", ""), f"${bare.lstrip('$')}"}
        if token.startswith("$"):
            candidates.add(token if token.endswith(" bn") else token + " bn")
        assert candidates & allowed or all(part in allowed for part in re.findall(r"\d+", bare)), \
            f"number {token!r} in the text is not a metric value: {text}"
