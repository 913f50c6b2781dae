"""Every code list reads in Vietnamese on user pages: version labels and legal bases of the
seeded lists carry no English words and no developer provenance (issue 18, point 2)."""

import json
from pathlib import Path

import pytest

from codelists.models import CodeSystemVersion

SYSTEMS = json.loads((Path(__file__).resolve().parents[2] / "codelists/seed/systems.json").read_text("utf-8"))
SPECS = SYSTEMS if isinstance(SYSTEMS, list) else SYSTEMS["systems"]
ENGLISH = (
    "seed-0",
    "project-defined",
    "unofficial",
    "unchanged",
    "labels per",
    " codes",
    " groups",
    "vietnam-provinces",
    "not available",
    "no code-list",
    "coding rule",
    "unverified",
    "Parsed from",
)


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s["key"])
def test_seeded_version_label_and_legal_basis_read_in_vietnamese(spec):
    label = CodeSystemVersion(label=spec["version_label"]).display_label
    assert [w for w in ENGLISH if w in label] == [], label
    assert [w for w in ENGLISH if w in spec.get("legal_basis", "")] == [], spec["legal_basis"]


def test_a_label_staff_gave_is_shown_as_given():
    assert CodeSystemVersion(label="QĐ 1234/QĐ-BYT (2026)").display_label == "QĐ 1234/QĐ-BYT (2026)"
