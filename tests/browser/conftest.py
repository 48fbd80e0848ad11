"""The reference renders of the briefing (bundled data; the shared market snapshot imported into
a temporary cache) and one deep dive, rendered once per session for the browser tests."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from tests.browser.harness import ROOT

AS_OF = "2026-08-21"
DEEP_DIVE = "robotics"


def _reference_tool():
    spec = importlib.util.spec_from_file_location("reference_renders", ROOT / "tools" / "reference_renders.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _deep_dive(out: Path, cache: Path) -> Path:
    import os

    env = dict(os.environ, AIBUBBLE_CACHE_DIR=str(cache))
    cmd = [str(Path(sys.executable).with_name("aibubble")), "run", str(ROOT / "reports.yaml"), "--only",
           f"domain-{DEEP_DIVE}", "--as-of", AS_OF, "--out", str(out)]
    subprocess.run(cmd, env=env, cwd=ROOT, check=True, capture_output=True)
    return out / AS_OF / f"domain-{DEEP_DIVE}.html"


@pytest.fixture(scope="session")
def bundled_render(tmp_path_factory) -> Path:
    """The briefing on the bundled data with an empty market cache (offline)."""
    root = tmp_path_factory.mktemp("bundled")
    cache = root / "cache"
    cache.mkdir()
    assert _reference_tool().render(root / "reports", cache, AS_OF) == 0
    return root / "reports" / AS_OF / "bubble-risk.html"


@pytest.fixture(scope="session")
def market_renders(tmp_path_factory) -> dict:
    """The briefing and the deep dive with ../shared/market imported into a temporary cache (test
    data: these renders never leave the temp folder; their screenshots go to reports/ only)."""
    from tests.conftest import require_shared_market

    market = require_shared_market()
    tool = _reference_tool()
    root = tmp_path_factory.mktemp("market")
    cache = root / "cache"
    cache.mkdir()
    tool.import_shared_market(cache, market)
    assert tool.render(root / "reports", cache, AS_OF) == 0
    return {"briefing": root / "reports" / AS_OF / "bubble-risk.html",
            "deep-dive": _deep_dive(root / "deep-dive", cache)}
