"""Export an executed notebook to one self-contained HTML briefing.

Why a preprocessor: with plotly 6+ a papermill-run kernel emits only the
``application/vnd.plotly.v1+json`` mime type, which nbconvert drops, so charts vanish. Rather than
inline plotly.js into every notebook output (about 5 MB each), we convert each plotly output to a
``<div>`` plus a small ``Plotly.newPlot`` call at export time and inline plotly.js once per document.
The template removes every CDN script (require.js, MathJax, mermaid, widgets), so the file renders
with no network.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
from nbconvert import HTMLExporter
from nbconvert.preprocessors import Preprocessor
from traitlets import Unicode

from analysis.reporting.metrics import METRICS_MIME

PLOTLY_MIME = "application/vnd.plotly.v1+json"
TEMPLATES_DIR = Path(__file__).parent / "templates"
_HEADING = re.compile(r"^(#{1,3})\s+(.+?)\s*#*\s*$", re.MULTILINE)


def script_safe_json(obj) -> str:
    """JSON that cannot close the surrounding ``<script>`` element or open a comment."""
    text = json.dumps(obj, separators=(",", ":"), allow_nan=False, default=str)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026") \
        .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


#: A code cell with this tag shows its outputs in JupyterLab only: the HTML header already says the
#: same (the data banners), so the briefing would say it twice.
NOTEBOOK_ONLY_TAG = "notebook-only"


class BriefingPreprocessor(Preprocessor):
    """Plotly JSON -> div + script; metrics outputs and notebook-only cells dropped; headings
    anchored for the TOC."""

    chart_class = Unicode("aibubble-chart")

    def preprocess(self, nb, resources):
        resources.setdefault("aibubble", {})
        toc: list[dict] = []
        chart_count = 0
        for cell in nb.cells:
            if cell.cell_type == "markdown":
                cell.source = self._anchor_headings(cell.source, toc)
            if cell.cell_type != "code":
                continue
            if NOTEBOOK_ONLY_TAG in cell.get("metadata", {}).get("tags", []):
                cell.outputs = []
                continue
            kept = []
            for output in cell.get("outputs", []):
                data = output.get("data")
                if data and METRICS_MIME in data:
                    continue
                if data and "text/markdown" in data:
                    # headings a page module displays (deep dives) belong in the contents too
                    data["text/markdown"] = self._anchor_headings(_text(data["text/markdown"]), toc)
                if data and PLOTLY_MIME in data:
                    chart_count += 1
                    output["data"] = {"text/html": self._chart_html(data[PLOTLY_MIME], chart_count)}
                    output.get("metadata", {}).pop(PLOTLY_MIME, None)
                kept.append(output)
            cell.outputs = kept
        # a code cell that shows nothing still draws an empty, padded box: a gap under the title
        nb.cells = [cell for cell in nb.cells if cell.cell_type != "code" or cell.outputs]
        nb.metadata.pop("widgets", None)
        resources["aibubble"]["toc"] = toc
        resources["aibubble"]["chart_count"] = chart_count
        return nb, resources

    @staticmethod
    def _anchor_headings(source: str, toc: list[dict]) -> str:
        def anchor(match: re.Match) -> str:
            level = len(match.group(1))
            if level > 2:
                return match.group(0)
            anchor_id = f"section-{len(toc) + 1}"
            toc.append({"id": anchor_id, "title": match.group(2), "level": level})
            return f'<a id="{anchor_id}"></a>\n\n{match.group(0)}'

        return _HEADING.sub(anchor, source)

    def _chart_html(self, figure: dict, number: int) -> str:
        div_id = f"chart-{number}"
        payload = script_safe_json({
            "data": figure.get("data", []),
            "layout": figure.get("layout", {}),
            "config": {"responsive": True, "displaylogo": False},
        })
        return (
            f'<div id="{div_id}" class="{self.chart_class}" style="width:100%;min-height:420px"></div>\n'
            f'<script type="text/javascript">(function(){{var f={payload};'
            f'Plotly.newPlot("{div_id}",f.data,f.layout,f.config);}})();</script>'
        )


def _text(value) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def reader_title(title: str) -> str:
    """A report title with taxonomy ids in words ("AI domain deep-dive: robotics" -> "AI domain
    deep-dive: Robotics and embodied AI"): batch configs name jobs by id."""
    from analysis.display import label

    title = re.sub(r"(?<=: )[a-z][a-z0-9_]*$", lambda m: label(m.group(0)), title)
    return re.sub(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b", lambda m: label(m.group(0)), title)


def _plotly_js() -> str:
    from plotly.offline import get_plotlyjs

    return get_plotlyjs()


def export_html(nb: nbformat.NotebookNode, header: dict) -> tuple[str, dict]:
    """Render an executed notebook as a self-contained HTML briefing.

    Parameters
    ----------
    nb : NotebookNode
        The executed notebook.
    header : dict
        ``title``, ``as_of``, ``parameters`` (name -> display value), ``freshness`` (label -> text),
        shown above the table of contents. Every value is escaped by the template.

    Returns
    -------
    html : str
    info : dict
        ``chart_count`` and ``toc`` as found by the preprocessor (used by tests and the runner).
    """
    nb = nbformat.from_dict(json.loads(json.dumps(nb)))  # never mutate the caller's notebook
    header = dict(header, title=reader_title(str(header.get("title", "AI bubble-risk briefing"))))
    exporter = HTMLExporter(
        template_name="briefing",
        extra_template_basedirs=[str(TEMPLATES_DIR)],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )
    resources = {
        "aibubble": {"header": header},
        "plotly_js": _plotly_js(),
        "metadata": {"name": header.get("title", "AI bubble-risk briefing")},
    }
    # Charts become HTML strings before nbconvert deep-copies the notebook (three times): copying
    # the figures' object trees took 0.2 s of a 0.5 s export.
    nb, resources = BriefingPreprocessor().preprocess(nb, resources)
    body, resources = exporter.from_notebook_node(nb, resources=resources)
    return body, {"chart_count": resources["aibubble"]["chart_count"], "toc": resources["aibubble"]["toc"]}
