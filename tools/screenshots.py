"""Refresh the README's screenshots (``make screenshots``): the bundled render of the briefing
(bundled data only, an empty market cache, offline) in Chromium at 1400 px, two images under
docs/: the first screen (the answer) and the money section's charts.

Never run on market data: the README must not show charts drawn from ../shared/market.
Usage: ``.venv/bin/python tools/screenshots.py [--as-of 2026-08-21] [--out docs]``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.browser import harness as H  # noqa: E402
from tools.reference_renders import render  # noqa: E402

SHOTS = {
    "briefing-answer.png": None,                     # the first screen
    "briefing-money.png": "Where the money goes",    # from this heading down, one screen
}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--as-of", default="2026-08-21")
    ap.add_argument("--out", type=Path, default=ROOT / "docs")
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp) / "cache"
        cache.mkdir()
        if render(Path(tmp) / "reports", cache, args.as_of) != 0:
            return 1
        html = Path(tmp) / "reports" / args.as_of / "bubble-risk.html"
        with H.browser() as b:
            page = H.open_page(b, html, height=1100)
            for name, heading in SHOTS.items():
                if heading:
                    page.get_by_role("heading", name=heading).scroll_into_view_if_needed()
                    page.evaluate("h => [...document.querySelectorAll('h2')].find(e => e.textContent.includes(h))"
                                  ".scrollIntoView({block: 'start'})", heading)
                    page.wait_for_timeout(300)
                page.screenshot(path=str(args.out / name))
                print(f"wrote {args.out / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
