"""Catalog maintenance: `python -m assistant catalog draft <repo>` and `python -m assistant catalog check`.

`draft` reads one Hugging Face Hub repository and prints a catalog entry (YAML) for a maintainer
to review and paste, every fact group with a `sources` line naming the repo and the field it came
from. What the Hub cannot give (summary, verdict, chinese_note, commercial conditions, …) is a
``TODO:`` placeholder that `check` rejects, so nothing guessed slips into the catalog.

    python -m assistant catalog draft Qwen/Qwen3-8B
    python -m assistant catalog draft Qwen/Qwen3-30B-A3B --variant      # one size, for a series' variants
    python -m assistant catalog draft Qwen/Qwen3-8B --recorded tests/fixtures/hub   # offline, from recordings
    python -m assistant catalog check

`check` validates the whole catalog: the schema, every fact group sourced (see `FACT_GROUPS`),
no name shared by two models, variants complete, and no entry left unchecked for a year.

The Hub sits behind the small `Hub` protocol: `HfHub` uses `huggingface_hub` (imported lazily, so
`check` and the rest of the assistant never import it) and `RecordedHub` reads recorded responses
(tests/fixtures/hub). See docs/catalog-refresh.md for the workflow.

Modules (every name is importable from `assistant.catalog_tools`): `hub` (the Hub and its
recordings), `read` (a repository's facts), `draft` (the entry and its YAML), `check` (the
rules and the report), `rules` (what draft and check agree on) and `command` (the CLI).
"""

from __future__ import annotations

from .check import (
    GROUP_NAMES,
    SERIES_WIDE,
    SIZE_TOKEN,
    SOURCE_RULE_FROM,
    STALE_AFTER_DAYS,
    CheckReport,
    Finding,
    check_catalog,
    covers,
    render_report,
    stated_groups,
    variant_groups,
)
from .command import EXIT_ERROR, EXIT_OK, add_arguments, run
from .draft import VARIANT_FIELDS, Draft, build_model, build_variant, draft, render
from .hub import FileGated, HfHub, Hub, HubError, HubUnreachable, RecordedHub, RepoNotFound
from .read import (
    LICENCES,
    Facts,
    attention_layers,
    read_architecture,
    read_context,
    read_languages,
    read_licence,
    read_modalities,
    read_released,
    read_repo,
    read_size,
    split_card,
    text_config,
)
from .rules import FACT_GROUPS, TODO
