"""The package's shape: imports run one way (no cycles, counting imports inside functions and
under TYPE_CHECKING), no module over 600 lines, and vocabulary lives in data, not in regexes."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "assistant"
MAX_LINES = 600


def _module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in PACKAGE.rglob("*.py")}


def _resolve(current: str, is_package: bool, level: int, module: str | None) -> str:
    base = current.split(".")
    if not is_package:
        base = base[:-1]
    if level > 1:
        base = base[: len(base) - (level - 1)]
    return ".".join([*base, *([module] if module else [])])


def import_graph() -> dict[str, set[str]]:
    """Every module's imports of other project modules: top level, inside functions and under TYPE_CHECKING."""
    modules = _modules()
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        is_package = path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = _resolve(name, is_package, node.level, node.module) if node.level else (node.module or "")
                targets = [base] + [f"{base}.{alias.name}" for alias in node.names]
            for target in targets:
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                if target and target != name and target.startswith("assistant"):
                    graph[name].add(target)
    # A package's __init__ importing its own submodules is how packages re-export; a submodule
    # importing its package's __init__ would close a loop, so those edges stay.
    return graph


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    counter = [0]

    def visit(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                item = stack.pop()
                on_stack.discard(item)
                component.append(item)
                if item == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return cycles


def test_the_graph_sees_imports_inside_functions_and_type_checking(tmp_path, monkeypatch):
    """The checker itself: a cycle hidden in a function or under TYPE_CHECKING is found."""
    pkg = tmp_path / "assistant"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("def f():\n    from . import b\n")
    (pkg / "b.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .a import f\n")
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", pkg)
    assert find_cycles(import_graph()) == [["assistant.a", "assistant.b"]]


def test_imports_run_one_way():
    cycles = find_cycles(import_graph())
    assert cycles == [], "import cycles (cut them with a leaf module): " + "; ".join(" ↔ ".join(c) for c in cycles)


def test_no_module_is_over_600_lines():
    long = {name: len(path.read_text(encoding="utf-8").splitlines()) for name, path in _modules().items()}
    over = {name: n for name, n in long.items() if n > MAX_LINES}
    assert over == {}, f"split these modules (limit {MAX_LINES} lines): {over}"


def test_the_checker_counts_lines_honestly(tmp_path):
    path = tmp_path / "big.py"
    path.write_text("x = 1\n" * (MAX_LINES + 1))
    assert len(path.read_text().splitlines()) > MAX_LINES


UNDERSTANDING = ("answer", "constraints.py", "constraint_hardware.py", "business.py", "llm/", "mentions.py", "text.py", "vocabulary.py")
MAX_REGEX_LITERALS = 55
"""Issue 16 found 215 regex literals spread over the understanding code; about three quarters had
to move into knowledge/vocabulary. What is left is mechanism: numbers, units, name shapes."""


def _regex_literals() -> dict[str, int]:
    counts: dict[str, int] = {}
    for name, path in _modules().items():
        rel = str(path.relative_to(PACKAGE))
        if not rel.startswith(UNDERSTANDING):
            continue
        n = 0
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in (
                "compile", "search", "match", "fullmatch", "findall", "finditer", "sub", "split"
            ) and isinstance(node.func.value, ast.Name) and node.func.value.id == "re" and node.args and isinstance(node.args[0], ast.Constant):
                n += 1
        counts[name] = n
    return counts


def test_vocabulary_lives_in_data_not_in_regexes():
    counts = _regex_literals()
    total = sum(counts.values())
    assert total <= MAX_REGEX_LITERALS, f"{total} regex literals in the understanding code: {dict(sorted(counts.items(), key=lambda kv: -kv[1]))}"
