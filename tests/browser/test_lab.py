"""The interactive path: JupyterLab (``make lab``'s configuration, the project's kernel) on a free
localhost port with a token, notebook 01 opened in Chromium through Playwright, every cell run,
one drop-down moved, and the funding chart it drives redrawn with the new selection; then the
server is shut down.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.browser import harness as H

pytestmark = [pytest.mark.browser, pytest.mark.slow]

NOTEBOOK = "01-funding-landscape.ipynb"
CONFIG = H.ROOT / "jupyter_lab_config.py"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, timeout: float = 2.0):
    with urllib.request.urlopen(url, timeout=timeout) as r:  # localhost only
        return json.loads(r.read().decode())


@pytest.fixture
def lab(tmp_path):
    """A JupyterLab server on 127.0.0.1 (yields base URL and token); shut down afterwards."""
    H.chromium_path()  # skip (or fail in CI) before starting anything
    port, token = _free_port(), secrets.token_hex(16)
    env = dict(os.environ, JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"), JUPYTER_CONFIG_DIR=str(tmp_path / "config"),
               JUPYTERLAB_WORKSPACES_DIR=str(tmp_path / "workspaces"), AIBUBBLE_TODAY="2026-08-21")
    env.pop("AIBUBBLE_HEADLESS", None)
    root = tmp_path / "notebooks"  # a copy: JupyterLab's autosave must never write into the repo
    root.mkdir()
    shutil.copy(H.ROOT / "notebooks" / NOTEBOOK, root / NOTEBOOK)
    cmd = [str(Path(sys.executable).with_name("jupyter")), "lab", f"--config={CONFIG}", "--no-browser",
           f"--ServerApp.root_dir={root}",
           "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
           f"--IdentityProvider.token={token}", "--ServerApp.disable_check_xsrf=False"]
    log = open(tmp_path / "lab.log", "w")
    proc = subprocess.Popen(cmd, cwd=H.ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                _get(f"{base}/api/status?token={token}")
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("JupyterLab did not start:\n" + (tmp_path / "lab.log").read_text()[-3000:])
                time.sleep(0.5)
        yield base, token
    finally:
        try:
            req = urllib.request.Request(f"{base}/api/shutdown?token={token}", method="POST")
            urllib.request.urlopen(req, timeout=10).close()
            proc.wait(timeout=30)
        except Exception:  # the server is ours: make sure it is gone
            proc.terminate()
            proc.wait(timeout=30)
        log.close()


FUNDING_TITLE = """() => [...document.querySelectorAll('.jp-OutputArea .js-plotly-plot .gtitle')]
    .map(t => t.textContent).find(t => t.includes('funding per')) || ''"""


def test_notebook_01_widgets_redraw_the_chart(lab):
    base, token = lab
    with H.browser(offline=False) as b:
        page = b.new_page(viewport={"width": H.WIDTH, "height": 1000})
        try:
            page.goto(f"{base}/lab/tree/{NOTEBOOK}?token={token}")
            page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=90_000)
            # cells run before the kernel is connected are silently dropped: wait for it first
            page.get_by_text("Python (aibubble) | Idle").wait_for(timeout=90_000)
            page.get_by_role("menuitem", name="Run", exact=True).click()
            page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
            period = page.locator(".widget-dropdown", has_text="Period").locator("select")
            # JupyterLab lays out only the cells in view: wait for the widget, then bring it into view
            period.wait_for(state="attached", timeout=60_000)
            period.scroll_into_view_if_needed()
            page.wait_for_function(f"() => ({FUNDING_TITLE})().includes('per quarter')", timeout=120_000)
            before = page.evaluate(FUNDING_TITLE)
            period.select_option("year")
            page.wait_for_function(f"() => ({FUNDING_TITLE})().includes('per year')", timeout=120_000)
            after = page.evaluate(FUNDING_TITLE)
            ticks = page.evaluate("""() => {
                const gd = [...document.querySelectorAll('.jp-OutputArea .js-plotly-plot')]
                    .find(g => g.querySelector('.gtitle').textContent.includes('funding per'));
                return [...gd.querySelectorAll('g.xtick text')].map(t => t.textContent);
            }""")
            H.save_screenshot(page, "lab-notebook-01")
        except Exception:
            H.save_screenshot(page, "lab-failure")  # what the page showed, for the developer
            raise
        sessions = _get(f"{base}/api/sessions?token={token}")
        page.close()
    assert "per quarter" in before and "per year" in after
    assert ticks and all(t[:4].isdigit() and "Q" not in t for t in ticks), ticks  # years, not quarters
    assert {s["kernel"]["name"] for s in sessions} == {"aibubble"}
