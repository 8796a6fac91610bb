"""Pinned dependencies clear the advisories in RELIABILITY.md, and the CI audit gate
decides correctly (items 10, 27, 35). Fast and offline: pip-audit itself is not run here.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import re
import tomllib

import pytest

from .conftest import ROOT

# package -> (minimum version, the advisories that minimum clears)
MINIMUMS = {
    "gradio": ((6, 16, 0), [
        "CVE-2023-51449 (4.11.0)", "CVE-2024-1561 (4.13.0)", "CVE-2024-1727 (4.19.2)",
        "CVE-2024-47164/47165/47167/47168/47867/47868/47871 (5.0.0)",
        "CVE-2026-28415/28416 gr.load SSRF (6.6.0)", "CVE-2026-28414 (6.7.0)",
        "CVE-2026-48545 (6.15.0)", "GHSA-j36p-7w88-g82j FileExplorer traversal (6.16.0)",
    ]),
    "llama-cpp-python": ((0, 2, 72), ["CVE-2024-34359 chat-template SSTI (0.2.72)"]),
    # No chromadb release fixes CVE-2026-45829/45833 or GHSA-2wm9-hf6c-p5cr (all <= 1.5.9, server
    # endpoints only; we use the embedded PersistentClient). The floor is the 1.x storage
    # format the index manifest records; see RELIABILITY.md.
    "chromadb": ((1, 5, 9), ["index format of chromadb 1.x (item 35)"]),
}


def version_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", text.split("+")[0])[:3])


def pyproject_pins() -> dict[str, str]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    pins = {}
    for requirement in data["project"]["dependencies"]:
        match = re.match(r"^\s*([A-Za-z0-9_.\-]+)(?:\[[^\]]*\])?\s*(==|>=|~=|<=|>|<|!=)?\s*([^;\s]*)", requirement)
        if match:
            pins[match.group(1).lower()] = f"{match.group(2) or ''}{match.group(3)}"
    return pins


@pytest.mark.parametrize("package", sorted(MINIMUMS))
def test_installed_version_clears_the_advisories(package):
    minimum, advisories = MINIMUMS[package]
    installed = importlib.metadata.version(package)
    assert version_tuple(installed) >= minimum, f"{package} {installed} is below {minimum}: {advisories}"


@pytest.mark.parametrize("package", sorted(MINIMUMS))
def test_pyproject_pins_it_exactly_at_a_safe_version(package):
    pins = pyproject_pins()
    assert package in pins, f"{package} is not a declared dependency"
    assert pins[package].startswith("=="), f"{package} must be pinned with ==, found {pins[package]!r}"
    pinned = pins[package][2:]
    assert version_tuple(pinned) >= MINIMUMS[package][0]
    assert version_tuple(importlib.metadata.version(package)) == version_tuple(pinned), "installed != pinned: reinstall"


def test_version_parsing():
    assert version_tuple("6.31.0") == (6, 31, 0)
    assert version_tuple("2.13.0+cpu") == (2, 13, 0)
    assert version_tuple("0.2.71") < (0, 2, 72) <= version_tuple("0.3.36")
    assert version_tuple("6.9.0") < (6, 16, 0)  # numeric, not string, comparison


# ------------------------------------------------------------------ the audit gate


@pytest.fixture(scope="module")
def audit():
    spec = importlib.util.spec_from_file_location("audit", ROOT / "tools" / "audit.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def report(*deps):
    return {"dependencies": list(deps), "fixes": []}


def test_audit_fails_on_a_vulnerability_with_a_fix(audit):
    code, lines = audit.evaluate(report(
        {"name": "gradio", "version": "4.10.0", "vulns": [
            {"id": "PYSEC-2024-1", "aliases": ["CVE-2023-51449"], "fix_versions": ["4.11.0"]}]},
        {"name": "numpy", "version": "2.0.0", "vulns": []},
    ))
    assert code == 1
    assert any("gradio 4.10.0" in line and "4.11.0" in line for line in lines)


def test_audit_passes_but_lists_a_vulnerability_without_a_fix(audit):
    code, lines = audit.evaluate(report(
        {"name": "chromadb", "version": "1.5.9", "vulns": [
            {"id": "GHSA-f4j7-r4q5-qw2c", "aliases": ["CVE-2026-45829"], "fix_versions": []}]},
    ))
    assert code == 0
    assert any("chromadb 1.5.9" in line and "no fixed release" in line for line in lines)


def test_audit_never_calls_an_unaudited_environment_clean(audit):
    skipped = [{"name": n, "skip_reason": f"Dependency not found on PyPI and could not be audited: {n} (1.0)"}
               for n in ("gradio", "chromadb", "numpy")]
    code, lines = audit.evaluate(report(*skipped, {"name": "assistant", "skip_reason": "distribution marked as editable"}))
    assert code == 0
    text = "\n".join(lines)
    assert "NOT performed" in text and "3 of 4" in text
    assert "ok:" not in text and "no known vulnerabilities" not in text


def test_audit_clean_result_says_how_much_was_checked(audit):
    code, lines = audit.evaluate(report({"name": "numpy", "version": "2.0.0", "vulns": []},
                                        {"name": "pyyaml", "version": "6.0.4", "vulns": []}))
    assert code == 0 and lines == ["ok: 2 packages audited, no known vulnerabilities."]


def test_audit_fails_on_a_fixable_vulnerability_even_when_some_packages_were_skipped(audit):
    code, lines = audit.evaluate(report(
        {"name": "left-pad", "skip_reason": "Dependency not found on PyPI and could not be audited: left-pad (1.0)"},
        {"name": "llama-cpp-python", "version": "0.2.70", "vulns": [
            {"id": "GHSA-56xg-wfcc-g829", "aliases": ["CVE-2024-34359"], "fix_versions": ["0.2.72"]}]},
    ))
    assert code == 1 and any("could not be audited" in line for line in lines)


def test_audit_runs_before_pytest_in_make_test():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    recipe = re.search(r"^test:[^\n]*\n((?:\t[^\n]*\n)+)", makefile, re.M)
    assert recipe, "no test target"
    lines = [line.strip() for line in recipe.group(1).splitlines()]
    assert lines.index("$(PY) tools/audit.py") < next(i for i, line in enumerate(lines) if "pytest" in line)
