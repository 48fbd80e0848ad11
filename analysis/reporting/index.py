"""``reports/index.html``: every published run, newest first, rebuilt from the run records."""

from __future__ import annotations

import html
import json
from pathlib import Path

from analysis.files import atomic_write_text


def list_runs(reports_root: Path) -> list[dict]:
    """Every ``<as-of>/<job>.run.json`` record under ``reports_root``, newest first."""
    runs = []
    for record in sorted(Path(reports_root).glob("*/*.run.json")):
        if record.parent.name.startswith("."):
            continue
        try:
            data = json.loads(record.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue  # a damaged record is skipped, not fatal: the index must always build
        href = data.get("href")
        # A record may name its own link (failed runs link their kept notebook, or None when
        # nothing was kept); only a plain relative path inside the reports folder is trusted.
        if "href" in data and href is None:
            pass
        elif not (isinstance(href, str) and href and not href.startswith(("/", "\\")) and ":" not in href
                and ".." not in href.split("/")):
            href = f"{record.parent.name}/{data.get('job', record.name[:-9])}.html"
        data["href"] = href
        runs.append(data)
    runs.sort(key=lambda r: (str(r.get("as_of")), str(r.get("finished_at"))), reverse=True)
    return runs


def render_index(runs: list[dict]) -> str:
    e = lambda v: html.escape(str(v), quote=True)  # noqa: E731
    rows = "\n".join(
        f"<tr><td>{e(r.get('as_of'))}</td><td>"
        + (f"<a href=\"{e(r['href'])}\">{e(r.get('job'))}</a>" if r["href"] else e(r.get("job")))
        + "</td>"
        f"<td class=\"status-{e(r.get('status'))}\" title=\"{e(r.get('error', ''))}\">{e(r.get('status'))}</td>"
        f"<td>{e(r.get('duration_s'))}</td><td>{e(r.get('finished_at'))}</td></tr>"
        for r in runs
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>AI bubble-risk reports</title>
<style>body{{font-family:system-ui,sans-serif;margin:2em}}table{{border-collapse:collapse}}
td,th{{padding:.3em 1em;border-bottom:1px solid #ddd;text-align:left}}
.status-failed,.status-timeout{{color:#b2182b;font-weight:600}}</style></head>
<body><h1>AI bubble-risk reports</h1>
<table><thead><tr><th>As of</th><th>Job</th><th>Status</th><th>Duration (s)</th><th>Finished</th></tr></thead>
<tbody>
{rows}
</tbody></table></body></html>
"""


def write_index(reports_root: Path) -> Path:
    """Rebuild ``index.html`` atomically (temp file, then rename)."""
    reports_root = Path(reports_root)
    target = reports_root / "index.html"
    atomic_write_text(target, render_index(list_runs(reports_root)))
    return target
