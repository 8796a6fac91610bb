"""The knowledge base's article: a Markdown file with front matter and one section per heading."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

_FRONT_MATTER = re.compile(r"\A---\n(.*?)\n---\n", re.S)


@dataclass(frozen=True)
class Section:
    title: str
    level: int
    text: str


@dataclass(frozen=True)
class Article:
    meta: dict[str, object]
    sections: list[Section] = field(default_factory=list)

    @property
    def title(self) -> str:
        return str(self.meta.get("title", ""))


def parse_markdown(text: str) -> Article:
    """Split a Markdown document into front matter and heading-delimited sections."""
    meta: dict[str, object] = {}
    match = _FRONT_MATTER.match(text)
    if match:
        loaded = yaml.safe_load(match.group(1))
        meta = loaded if isinstance(loaded, dict) else {}
        text = text[match.end() :]
    sections: list[Section] = []
    title, level, buf = "", 0, []
    for line in text.splitlines():
        heading = re.match(r"^(#{1,6})\s+(.*)$", line)
        if heading:
            if "".join(buf).strip():
                sections.append(Section(title, level, "\n".join(buf).strip()))
            title, level, buf = heading.group(2).strip(), len(heading.group(1)), []
        else:
            buf.append(line)
    if "".join(buf).strip():
        sections.append(Section(title, level, "\n".join(buf).strip()))
    return Article(meta=meta, sections=sections)


def load_article(path: Path) -> Article:
    return parse_markdown(path.read_text(encoding="utf-8"))
