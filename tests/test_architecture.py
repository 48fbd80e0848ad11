"""The layout ARCHITECTURE.md promises: floors that import downwards only, modules of one job and
a readable size, one home for the segment maps."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "analysis"
#: Modules allowed past the size bar, each with the one job that makes it long.
LONG_MODULES = {
    "bubbles/lppls.py": "the LPPLS fit (the Filimonov-Sornette reduction, the grid and the local search) and the "
                        "multi-window confidence with the published filters, which reuse the fit's internals",
    "bubbles/psy.py": "the PSY family (SADF, GSADF, BSADF, critical values by simulation, date-stamping) "
                      "shares one recursion and its caches",
}
MAX_LINES = 650


def modules() -> dict[str, Path]:
    return {".".join(p.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(".__init__"): p
            for p in PACKAGE.rglob("*.py")}


def top_level_imports(path: Path, name: str, submodules: set[str] = frozenset()) -> set[str]:
    """Modules of the package imported at module level (imports inside functions are deferred on
    purpose and cannot form a cycle at import time). ``from pkg import mod`` depends on ``pkg.mod``
    only: importing a submodule of a package still initialising is safe."""
    found = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("analysis")}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            if base.startswith("analysis"):
                names = {f"{base}.{a.name}" for a in node.names}
                found |= names & submodules if names <= submodules else names & submodules | {base}
    return found


def test_no_module_is_past_the_size_bar_without_a_reason():
    long = {str(p.relative_to(PACKAGE)): len(p.read_text().splitlines()) for p in PACKAGE.rglob("*.py")}
    over = {m: n for m, n in long.items() if n > MAX_LINES and m not in LONG_MODULES}
    assert over == {}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of ``graph`` (module -> modules it imports), or None."""
    state: dict[str, int] = {}

    def visit(node, trail):
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return trail[trail.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt, trail + [nxt])):
                return found
        state[node] = 2
        return None

    for name in sorted(graph):
        if name not in state and (found := visit(name, [name])):
            return found
    return None


def test_module_imports_form_no_cycle():
    mods = modules()
    graph = {name: {m for m in top_level_imports(path, name, set(mods)) if m in mods and m != name}
             for name, path in mods.items()}
    assert find_cycle(graph) is None


def test_pages_and_sections_never_import_the_runner():
    for name, path in modules().items():
        if name.startswith(("analysis.pages", "analysis.sections")):
            text = path.read_text()
            assert "reporting.runner" not in text and "analysis.cli" not in text, name


def test_the_cycle_check_can_fail(tmp_path):
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None
    a = tmp_path / "a.py"
    a.write_text("from analysis import b\nfrom analysis.c import thing\n")
    assert top_level_imports(a, "analysis.a", {"analysis", "analysis.b", "analysis.c"}) == {"analysis.b", "analysis.c"}


#: Modules a notebook kernel must not import on the briefing's data path: each costs 0.5-0.9 s of
#: import time in every kernel and buys nothing there (pandera's typing layer imports dask.dataframe
#: to rule out dask models; jsonschema 4.25+ builds an Earley parser for IRIs at import).
KERNEL_NEVER_IMPORTS = ("dask.dataframe", "rfc3987_syntax", "lark")


def test_the_kernel_path_skips_expensive_unused_imports():
    code = ("import sys\n"
            "from analysis.notebook import setup\n"
            "setup()\n"
            "import plotly.io._renderers\n"
            "from analysis import config\n"
            "from analysis.data.ledger import load_dataset, load_ledger\n"
            "load_ledger()\n"
            "for name in config.DATASET_FILES: load_dataset(name)\n"
            f"print(','.join(m for m in {KERNEL_NEVER_IMPORTS!r} if m in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=PACKAGE.parent, check=True)
    assert out.stdout.strip() == ""
