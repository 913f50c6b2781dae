"""Reads the "whole record" table of docs/intake.md (issue 17): one row per FHIR resource type
and XML 130 table -- stored in, shown on, `$everything`, history API."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

DOC = Path(__file__).resolve().parents[3] / "docs" / "intake.md"
HEADING = "## The whole record"


@dataclass
class Row:
    source: str  # a FHIR resource type, an XML table ("XML4") or "any other FHIR type"
    models: list[str]
    pages: list[str]
    resources: list[str]
    keys: list[str]

    @property
    def is_xml(self) -> bool:
        return re.fullmatch(r"XML\d+", self.source) is not None


def _ticks(cell: str) -> list[str]:
    return re.findall(r"`([^`]+)`", cell)


def rows() -> list[Row]:
    text = DOC.read_text(encoding="utf-8")
    section = text[text.index(HEADING) :]
    section = section[: section.index("\n## ", 1)]
    out = []
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 5 or cells[0] in ("Source",) or set(cells[0]) <= {"-"}:
            continue
        source = _ticks(cells[0])
        out.append(
            Row(
                source=source[0] if source else cells[0],
                models=[m for m in _ticks(cells[1]) if re.fullmatch(r"[A-Z][a-z][A-Za-z]*", m)],
                pages=_ticks(cells[2]),
                resources=_ticks(cells[3]),
                keys=_ticks(cells[4]),
            )
        )
    return out
