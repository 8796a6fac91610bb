"""The `catalog` sub-commands of the CLI: `draft <repo>` and `check`."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

from .check import SOURCE_RULE_FROM, check_catalog, render_report
from .draft import draft, render
from .hub import HfHub, Hub, HubError, RecordedHub

EXIT_OK, EXIT_ERROR = 0, 1


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The `catalog` sub-commands, shared by the CLI and its tests."""
    sub = parser.add_subparsers(dest="catalog_command", required=True)
    d = sub.add_parser("draft", help="print a catalog entry read from a Hugging Face Hub repository")
    d.add_argument("repo", help="Hub repo id, e.g. Qwen/Qwen3-8B")
    d.add_argument("--variant", action="store_true", help="print a variant entry (one size of a series)")
    d.add_argument("--recorded", metavar="DIR", help="read recorded Hub responses from DIR instead of the Hub")
    d.add_argument("--today", type=date.fromisoformat, default=None, help=argparse.SUPPRESS)
    c = sub.add_parser("check", help="validate the whole catalog: schema, sources, names, variants, age")
    c.add_argument("--today", type=date.fromisoformat, default=None, help="check as of this date (YYYY-MM-DD)")
    c.add_argument("--quiet", action="store_true", help="count the warnings instead of listing them")
    c.add_argument("--strict-from", type=date.fromisoformat, default=SOURCE_RULE_FROM, metavar="YYYY-MM-DD",
                   help=f"fail unsourced fact groups of entries checked on or after this date (default {SOURCE_RULE_FROM}); "
                        "older entries get a warning")


def run(args: argparse.Namespace, catalog_path: Path) -> int:
    today = args.today or date.today()
    if args.catalog_command == "check":
        report = check_catalog(catalog_path, today, args.strict_from)
        print(render_report(report, today, verbose=not args.quiet, strict_from=args.strict_from))
        return EXIT_ERROR if report.errors else EXIT_OK
    try:
        hub: Hub = RecordedHub(Path(args.recorded)) if args.recorded else HfHub()
        result = draft(hub, args.repo, variant=args.variant, today=today, catalog_path=catalog_path)
    except ImportError as exc:
        print(f"錯誤 error: `catalog draft` needs huggingface_hub ({exc}); install the project's dependencies.", file=sys.stderr)
        return EXIT_ERROR
    except HubError as exc:
        print(f"錯誤 error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    sys.stdout.write(render(result))
    return EXIT_OK
