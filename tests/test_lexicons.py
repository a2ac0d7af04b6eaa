"""Integrity of the per-language data in seeds/languages (the way dateparser checks its locale data)."""

import csv
import re
from pathlib import Path

import langcodes
import pytest

from flows.lexicon.reference import CUE_KINDS, DATE_KINDS, LANGUAGES_DIR, SHARED, UNIT_KINDS

HEADERS = {
    "cues.csv": ["kind", "cue", "position"],
    "dates.csv": ["kind", "word", "position"],
    "units.csv": ["surface", "kind", "unit", "value"],
}
UNITS = {"%", "m2", "km2", "ha", "t", "kg", "km", "m", "count", "ordinal", "fraction", "l", "mi", "ft", "magnitude", ""}
UNITS |= {"year", "month", "week", "day", "hour", "minute", "second", "mm", "°C"}  # durations, rain, temperature
FOLDERS = sorted(p for p in LANGUAGES_DIR.iterdir() if p.is_dir())


def test_every_folder_is_a_language():
    assert FOLDERS
    for folder in FOLDERS:
        assert folder.name == SHARED or langcodes.tag_is_valid(folder.name), folder.name
        assert {p.name for p in folder.iterdir()} <= set(HEADERS), f"{folder.name}: unknown files"


@pytest.mark.parametrize("folder", FOLDERS, ids=[f.name for f in FOLDERS])
def test_language_files(folder: Path):
    for path in sorted(folder.glob("*.csv")):
        with path.open(encoding="utf-8", newline="") as fh:
            rows = list(csv.reader(fh))
        where = f"{folder.name}/{path.name}"
        assert rows and rows[0] == HEADERS[path.name], f"{where}: header must be {HEADERS[path.name]}"
        seen = set()
        for n, row in enumerate(rows[1:], start=2):
            assert len(row) == len(rows[0]), f"{where}:{n}: {len(row)} fields"
            assert all(cell == cell.strip() for cell in row), f"{where}:{n}: stray spaces {row}"
            assert tuple(row) not in seen, f"{where}:{n}: duplicate {row}"
            seen.add(tuple(row))
            if path.name == "units.csv":
                surface, kind, unit, value = row
                assert surface, f"{where}:{n}: empty surface"
                assert kind in UNIT_KINDS, f"{where}:{n}: unknown kind {kind!r}"
                assert unit in UNITS or re.fullmatch(r"[A-Z]{3}", unit), f"{where}:{n}: unknown unit {unit!r}"
                if kind == "ordinal_suffix":
                    assert value == "", f"{where}:{n}: an ordinal suffix has no value"
                else:
                    assert float(value) > 0, f"{where}:{n}: value {value!r}"
                if kind == "currency":
                    assert re.fullmatch(r"[A-Z]{3}", unit), f"{where}:{n}: currency unit must be ISO 4217"
            else:
                kind, cue, position = row
                kinds = CUE_KINDS if path.name == "cues.csv" else DATE_KINDS
                assert kind in kinds, f"{where}:{n}: unknown kind {kind!r} (known: {', '.join(kinds)})"
                assert cue, f"{where}:{n}: empty cue"
                assert position in kinds[kind][0], f"{where}:{n}: position {position!r} not in {kinds[kind][0]}"


def test_every_unit_the_lexicons_produce_passes_the_quantities_gate():
    """A unit added to a units.csv must also be in the quantities suite's known set, or every such
    quantity is quarantined (as 'magnitude' was)."""
    import json

    suite = json.loads((LANGUAGES_DIR.parent.parent / "expectations" / "quantities.json").read_text())
    query = next(
        e["kwargs"]["unexpected_rows_query"] for e in suite["expectations"] if "known set" in e["meta"]["description"]
    )
    known = set(re.findall(r"'([^']+)'", query.split("NOT IN", 1)[1].split(")", 1)[0]))
    produced = set()
    for path in LANGUAGES_DIR.glob("*/units.csv"):
        with path.open(encoding="utf-8", newline="") as fh:
            produced |= {row["unit"] for row in csv.DictReader(fh) if row["unit"]}
    missing = {u for u in produced if not re.fullmatch(r"[A-Z]{3}", u)} - known
    assert not missing, f"units the lexicons produce that expectations/quantities.json would quarantine: {missing}"
