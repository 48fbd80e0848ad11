"""Wall time of `aibubble report` on the bundled data next to the floor: starting a kernel and
running an empty parameterised notebook through the same CLI path (papermill + export + publish).

Target: the briefing costs at most 3x the floor, and its HTML is under 6 MB.
Run: .venv/bin/python benchmarks/report_e2e.py [--repeat N]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_notebook

ROOT = Path(__file__).resolve().parent.parent
AIBUBBLE = Path(sys.executable).with_name("aibubble")


def empty_notebook(folder: Path) -> Path:
    nb = new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    params = new_code_cell('as_of = ""  # report date')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params]
    path = folder / "empty.ipynb"
    nbformat.write(nb, path)
    return path


def timed(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, cwd=ROOT)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        empty = empty_notebook(tmp)
        floor, briefing = [], []
        for i in range(args.repeat):  # interleaved, so machine noise hits both alike
            floor.append(timed([str(AIBUBBLE), "report", "--offline", "--notebook", str(empty),
                                "--out", str(tmp / f"floor{i}")]))
            briefing.append(timed([str(AIBUBBLE), "report", "--offline", "--out", str(tmp / f"brief{i}")]))
        html = next((tmp / "brief0").glob("*/bubble-risk.html"))
        ipynb = html.with_suffix(".ipynb")
        f, b = statistics.median(floor), statistics.median(briefing)
        print(f"{'case':<40}{'median s':>10}{'runs':>6}")
        print(f"{'floor: empty notebook, same path':<40}{f:>10.2f}{len(floor):>6}")
        print(f"{'aibubble report (default briefing)':<40}{b:>10.2f}{len(briefing):>6}")
        print(f"{'ratio briefing / floor':<40}{b / f:>10.2f}   target <= 3.0 -> {'ok' if b / f <= 3 else 'MISSED'}")
        size = html.stat().st_size / 1e6
        print(f"{'HTML size (MB)':<40}{size:>10.2f}   target < 6 -> {'ok' if size < 6 else 'MISSED'}")
        print(f"{'executed .ipynb size (MB)':<40}{ipynb.stat().st_size / 1e6:>10.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
