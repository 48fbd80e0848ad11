"""Drive the Debian Chromium with Playwright for Python: no browser download.

Playwright launches the system Chromium through ``executable_path``; if that fails (a Chromium
too far from the one this Playwright release was built against) it starts Chromium itself with a
DevTools port and attaches with ``connect_over_cdp``. Without Chromium or Playwright the tests skip,
except where ``AIBUBBLE_REQUIRE_BROWSER=1`` (CI sets it), where that is a failure.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
#: Full-page screenshots for the developer to look at (reports/ is git-ignored).
SCREENSHOT_DIR = ROOT / "reports" / "browser"
LAYOUT_JS = (Path(__file__).parent / "layout.js").read_text()
WIDTH = 1400
BASE_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--hide-scrollbars"]
#: No network for the exported pages: every request goes to a dead proxy, no host name resolves.
OFFLINE_ARGS = ["--proxy-server=127.0.0.1:9", "--host-resolver-rules=MAP * ~NOTFOUND"]


def _missing(what: str):
    if os.environ.get("AIBUBBLE_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{what} is required (AIBUBBLE_REQUIRE_BROWSER=1) but not installed")
    pytest.skip(f"{what} not installed (apt-get install chromium; pip install -r requirements-dev.txt)")


def chromium_path() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    _missing("Chromium")


@contextlib.contextmanager
def browser(offline: bool = True):
    """A Playwright Browser on the system Chromium (closed on exit)."""
    try:
        from playwright.sync_api import Error, sync_playwright
    except ImportError:
        _missing("Playwright for Python")
    exe = chromium_path()
    args = BASE_ARGS + (OFFLINE_ARGS if offline else [])
    with sync_playwright() as p:
        try:
            b = p.chromium.launch(executable_path=exe, args=args, headless=True)
            proc = None
        except Error:
            b, proc = connect_over_cdp(p.chromium, exe, args)
        try:
            yield b
        finally:
            b.close()
            if proc is not None:
                proc.terminate()
                proc.wait(timeout=20)


def connect_over_cdp(browser_type, exe: str, args: list[str]):
    """Start Chromium with a DevTools port chosen by itself and attach ``browser_type`` (Playwright's
    ``chromium``) to it. Returns the Browser and the Chromium process (terminate it after)."""
    profile = tempfile.mkdtemp(prefix="aibubble-chromium-")
    proc = subprocess.Popen([exe, "--headless", f"--user-data-dir={profile}", "--remote-debugging-port=0", *args,
                             "about:blank"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    port_file = Path(profile) / "DevToolsActivePort"
    deadline = time.monotonic() + 30
    while not (port_file.is_file() and port_file.read_text().strip()):
        if time.monotonic() > deadline or proc.poll() is not None:
            proc.kill()
            pytest.fail("Chromium did not open a DevTools port for connect_over_cdp")
        time.sleep(0.1)
    port = port_file.read_text().split()[0]
    return browser_type.connect_over_cdp(f"http://127.0.0.1:{port}"), proc


def open_page(b, html: Path, height: int = 1000):
    """Load an exported page and wait until Plotly has drawn every chart in it."""
    page = b.new_page(viewport={"width": WIDTH, "height": height})
    page.goto(html.resolve().as_uri())
    page.wait_for_function(
        "() => [...document.querySelectorAll('.aibubble-chart')].every(d => d.querySelector('.main-svg'))",
        timeout=60_000)
    page.wait_for_timeout(300)  # responsive relayout after the first draw
    return page


def layout_problems(page, ids) -> list[dict]:
    return page.evaluate(LAYOUT_JS, list(ids))


def save_screenshot(page, name: str) -> Path:
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOT_DIR / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def taxonomy_ids() -> list[str]:
    from analysis.data.taxonomy import load_taxonomy

    t = load_taxonomy()
    ids = set(t.ids) | {s.id for s in t.llm_segments} | {b.id for b in t.baskets} | set(t.ticker_segments)
    return sorted(ids)
