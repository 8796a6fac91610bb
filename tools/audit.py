"""Dependency audit for CI: `python tools/audit.py` (run by `make test` before pytest).

Runs `pip-audit --skip-editable --format json` on this environment and:

- exits 1 when any installed package has a known vulnerability with a fix version
  (upgrade and re-pin it in pyproject.toml);
- exits 0, listing them, for known vulnerabilities without a fix yet (for example the
  chromadb server advisories, which the embedded PersistentClient does not expose);
- exits 0 with a loud warning when the vulnerability service could not be reached, so
  nothing was audited (an offline machine, or a mirror that serves packages but not
  PyPI's JSON API). It never reports "no vulnerabilities" for packages it could not check;
- exits 2 when pip-audit itself is missing or fails for another reason.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

UNREACHABLE_MARKERS = (
    "Dependency not found on PyPI",
    "ConnectionError",
    "ConnectTimeout",
    "ReadTimeout",
    "Max retries exceeded",
    "Temporary failure in name resolution",
    "Name or service not known",
    "Network is unreachable",
    "Connection refused",
    "timed out",
)
EXIT_OK, EXIT_VULNERABLE, EXIT_BROKEN = 0, 1, 2


def run_pip_audit(extra_args: list[str]) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "pip_audit", "--skip-editable", "--format", "json",
               "--progress-spinner", "off", *extra_args]
    return subprocess.run(command, capture_output=True, text=True, timeout=900)


def evaluate(report: dict[str, Any]) -> tuple[int, list[str]]:
    """Decide the exit code for a pip-audit JSON report; also the lines to print."""
    dependencies = [d for d in report.get("dependencies", []) if isinstance(d, dict)]
    skipped = [d for d in dependencies if d.get("skip_reason")]
    unreachable = [d for d in skipped if "not found on PyPI" in str(d.get("skip_reason"))]
    audited = [d for d in dependencies if not d.get("skip_reason")]
    fixable: list[str] = []
    unfixed: list[str] = []
    for dep in audited:
        for vuln in dep.get("vulns") or []:
            ids = ", ".join([vuln.get("id", "?"), *vuln.get("aliases", [])])
            line = f"{dep.get('name')} {dep.get('version')}: {ids}"
            if vuln.get("fix_versions"):
                fixable.append(f"{line} -> fixed in {', '.join(vuln['fix_versions'])}")
            else:
                unfixed.append(f"{line} (no fixed release yet)")
    lines: list[str] = []
    if fixable:
        lines.append(f"FAIL: {len(fixable)} known vulnerabilit{'y has' if len(fixable) == 1 else 'ies have'} a fix; "
                     "upgrade and re-pin in pyproject.toml:")
        lines += [f"  - {item}" for item in fixable]
    if unfixed:
        lines.append(f"note: {len(unfixed)} known vulnerabilit{'y' if len(unfixed) == 1 else 'ies'} without a fix yet "
                     "(see RELIABILITY.md for why each is or is not reachable here):")
        lines += [f"  - {item}" for item in unfixed]
    if not audited and dependencies:
        lines.append(
            f"WARNING: dependency audit NOT performed: the vulnerability service could not be reached "
            f"({len(unreachable)} of {len(dependencies)} packages came back "
            "\"Dependency not found on PyPI and could not be audited\"). This is not a clean result; "
            "run `make audit` where pypi.org is reachable."
        )
    elif unreachable:
        lines.append(f"WARNING: {len(unreachable)} packages could not be audited: "
                     + ", ".join(sorted(str(d.get("name")) for d in unreachable)))
    if audited and not fixable and not unfixed:
        lines.append(f"ok: {len(audited)} packages audited, no known vulnerabilities.")
    return (EXIT_VULNERABLE if fixable else EXIT_OK), lines


def main(argv: list[str] | None = None) -> int:
    try:
        result = run_pip_audit(list(argv if argv is not None else sys.argv[1:]))
    except FileNotFoundError as exc:  # pragma: no cover - sys.executable always exists
        print(f"error: cannot run pip-audit: {exc}", file=sys.stderr)
        return EXIT_BROKEN
    if "No module named pip_audit" in result.stderr:
        print("error: pip-audit is not installed; run `make install-test`.", file=sys.stderr)
        return EXIT_BROKEN
    try:
        report = json.loads(result.stdout)
    except ValueError:
        if any(marker in result.stderr for marker in UNREACHABLE_MARKERS):
            print("WARNING: dependency audit NOT performed: the vulnerability service could not be reached.\n"
                  + result.stderr.strip()[-1500:], file=sys.stderr)
            return EXIT_OK
        print(f"error: pip-audit failed (exit {result.returncode}):\n{result.stderr.strip()[-3000:]}", file=sys.stderr)
        return EXIT_BROKEN
    code, lines = evaluate(report)
    for line in lines:
        print(line, file=sys.stderr if code or line.startswith("WARNING") else sys.stdout)
    return code


if __name__ == "__main__":
    sys.exit(main())
