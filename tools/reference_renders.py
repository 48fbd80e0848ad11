"""Produce the two reference renders of the briefing (DEVELOPERS.md) into one folder.

* ``bundled``: the bundled data only, an empty market cache, offline.
* ``market``: ``../shared/market`` (test and development data, never committed) imported into a
  temporary cache, then the same briefing.

Both run ``--as-of 2026-08-21`` by default, so their ``metrics.json`` can be compared across
commits. Usage::

    .venv/bin/python tools/reference_renders.py OUT_DIR [--as-of 2026-08-21] [--only bundled|market]
        [--screenshots]

Nothing here is imported by the package; the market render's prices stay in a temp folder.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from analysis.config import shared_market_dir  # noqa: E402

SHARED_MARKET = shared_market_dir()


def import_shared_market(cache: Path, market: Path = SHARED_MARKET) -> None:
    """Import every ticker of data/tickers.csv found in the snapshot, plus the indices and bitcoin."""
    env = dict(os.environ, AIBUBBLE_CACHE_DIR=str(cache))
    code = (
        "import sys, pandas as pd\n"
        "from pathlib import Path\n"
        "from analysis import config\n"
        "from analysis.data.prices_import import import_prices\n"
        "m = Path(sys.argv[1])\n"
        "tickers = pd.read_csv(config.DATASET_FILES['tickers'])['ticker']\n"
        "files = [f for t in tickers for f in (m/'stocks'/f'{t}.csv', m/'etfs'/f'{t}.csv') if f.is_file()]\n"
        "import_prices(files)\n"
        "for name, t in (('IXIC','^IXIC'),('GSPC','^GSPC'),('NDX','^NDX'),('N225','^N225')):\n"
        "    import_prices([m/'indices'/f'{name}.csv'], ticker=t)\n"
        "import_prices([m/'crypto'/'BTC-USD.csv'], ticker='BTC-USD')\n"
    )
    subprocess.run([sys.executable, "-c", code, str(market)], env=env, check=True, cwd=ROOT)


def render(out: Path, cache: Path, as_of: str) -> int:
    env = dict(os.environ, AIBUBBLE_CACHE_DIR=str(cache))
    cmd = [str(ROOT / ".venv" / "bin" / "aibubble"), "report", "--offline", "--as-of", as_of, "--out", str(out)]
    return subprocess.run(cmd, env=env, cwd=ROOT).returncode


def screenshot(html: Path, png: Path, width: int = 1400, height: int = 1000, full: bool = True) -> None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        print("no chromium: screenshots skipped", file=sys.stderr)
        return
    with tempfile.TemporaryDirectory() as profile:
        args = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                f"--user-data-dir={profile}", "--hide-scrollbars", "--virtual-time-budget=15000",
                f"--window-size={width},{height}", f"--screenshot={png}", html.resolve().as_uri()]
        subprocess.run(args, check=False, capture_output=True, timeout=180)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--as-of", default="2026-08-21")
    ap.add_argument("--only", choices=("bundled", "market"))
    ap.add_argument("--screenshots", action="store_true", help="first screen (1400x1000) of each render")
    args = ap.parse_args(argv)
    rc = 0
    for kind in ("bundled", "market"):
        if args.only and kind != args.only:
            continue
        with tempfile.TemporaryDirectory() as cache:
            if kind == "market":
                import_shared_market(Path(cache))
            out = args.out / kind
            rc |= render(out, Path(cache), args.as_of)
        if args.screenshots:
            for html in sorted(out.glob(f"{args.as_of}/*.html")):
                screenshot(html, args.out / f"{kind}-{html.stem}-top.png", full=False)
    return rc


if __name__ == "__main__":
    sys.exit(main())
