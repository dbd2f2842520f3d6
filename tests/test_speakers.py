"""Speakers are people (#19.4): the variants of one person's name over the pages' history
are one speaker with aliases, and different people who share a surname stay apart.

The real history first: `talks backfill` of every version of the series' pages
(tests/fixtures/corpus through tests/history_repo.py). Then page versions edited here,
synced one after the other (pages only), for the cases the history does not hold.
"""
from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from sync.cli import cli
from sync.pages.parse import decode_page, parse_webinar_page
from sync.pages.people import fuller, name_key, variant_of

from .conftest import CORPUS, FIXTURES, rows
from .history_repo import build_history_repo

WEBINAR = FIXTURES / "pages" / "2026-08-11_dd744744_webinar.md"

# The people the history writes two ways (before this, each was two speakers).
KNOWN_VARIANTS = [{"Malih Alikhani", "Malihe Alikhani"}, {"Maria A. Zuluaga", "Maria Zuluaga"}]


def people(db_path) -> list[set[str]]:
    """Each speaker as the set of names the pages wrote for them."""
    found: dict[int, set[str]] = {}
    for r in rows(db_path, "SELECT speaker_id, name FROM speaker_aliases"):
        found.setdefault(r["speaker_id"], set()).add(r["name"])
    speakers = {r["id"] for r in rows(db_path, "SELECT id FROM speakers")}
    assert set(found) == speakers  # every speaker has its names, and no alias is nobody's
    return sorted(found.values(), key=sorted)


def names_the_pages_wrote() -> set[str]:
    names = set()
    for path in sorted(CORPUS.glob("*_webinar.md")):
        page = parse_webinar_page(decode_page(path.read_bytes(), str(path)), str(path))
        names |= {person.name for talk in page.listed + page.upcoming for person in talk.speakers}
    return names


# ------------------------------------------------------------------ the real history


@pytest.mark.slow
def test_a_backfill_of_the_history_makes_one_speaker_per_person(tmp_path):
    repo, db_path = tmp_path / "site", str(tmp_path / "talks.db")
    build_history_repo(repo)
    result = CliRunner().invoke(cli, ["backfill", "--repo", str(repo), "--db", db_path, "-q"])
    assert result.exit_code == 0, result.output

    before = names_the_pages_wrote()  # one speaker per name, as a backfill made them before
    after = people(db_path)
    assert len(before) == 40 and len(after) == 38
    # the known pairs merged, and nothing else: every other person is one name alone
    assert sorted(after, key=sorted) == sorted(KNOWN_VARIANTS + [{n} for n in before - set().union(*KNOWN_VARIANTS)],
                                               key=sorted)
    # shown under the fullest name, each of their talks linked to that one row
    shown = rows(db_path, "SELECT s.name, count(DISTINCT ts.talk_id) AS talks FROM speakers s"
                          " JOIN talk_speakers ts ON ts.speaker_id = s.id AND ts.removed_at IS NULL"
                          " WHERE s.name LIKE '%Alikhani' OR s.name LIKE '%Zuluaga' GROUP BY s.id ORDER BY s.name")
    assert shown == [{"name": "Malihe Alikhani", "talks": 1}, {"name": "Maria A. Zuluaga", "talks": 1}]


# ------------------------------------------------------------------ name rules (pure)


def test_name_variants():
    assert name_key("Dr. María (A.) Zuluaga") == name_key("Maria Zuluaga") == "maria zuluaga"
    assert name_key("Amelia Jiménez-Sánchez") == name_key("amelia jimenez sanchez")
    assert variant_of("Malih Alikhani", "Malihe Alikhani")  # a shortened first name
    assert variant_of("Natalia Avlona", "Natalia-Rozalia Avlona")  # a middle name dropped
    assert variant_of("Hubert Zając", "Hubert Dariusz Zajac")
    assert not variant_of("David Wen", "Daniel Wen")  # a shared surname is not a person
    assert not variant_of("Jun Li", "Juniper Li")  # too short a start to be the same given name
    assert not variant_of("Maria Zuluaga", "Mario Zuluaga")
    assert not variant_of("Anna Bron", "Anna Brown")
    assert not variant_of("Anna Maria Bron", "Anna Sofia Bron")  # two different middle names
    assert fuller("Malih Alikhani", "Malihe Alikhani") == "Malihe Alikhani"
    assert fuller("Maria A. Zuluaga", "Maria Zuluaga") == "Maria A. Zuluaga"
    assert fuller("Amelia Jimenez-Sanchez", "Amelia Jiménez-Sánchez") == "Amelia Jiménez-Sánchez"
    assert fuller("Esther Bron", "Esther Bron") == "Esther Bron"


# ------------------------------------------------------------------ page versions edited here


def sync_versions(tmp_path, *versions: dict) -> str:
    """Sync the real page of 2026-08-11 once per version, each with these names replaced."""
    db_path = str(tmp_path / "talks.db")
    for n, renames in enumerate(versions):
        text = WEBINAR.read_text("utf-8")
        for old, new in renames.items():
            assert old in text, old
            text = text.replace(old, new)
        page = tmp_path / f"webinar-{n}.md"
        page.write_text(text, "utf-8")
        result = CliRunner().invoke(cli, ["sync", "--db", db_path, "--page", str(page), "--no-talks-page",
                                          "--source", "none", "--today", "2026-08-11", "-q"])
        assert result.exit_code == 0, result.output
    return db_path


def speaker_of(db_path, code: str) -> list[dict]:
    return rows(db_path, "SELECT s.id, s.name FROM talks t JOIN talk_speakers ts ON ts.talk_id = t.id"
                         " AND ts.removed_at IS NULL JOIN speakers s ON s.id = ts.speaker_id"
                         " WHERE t.code = ? ORDER BY ts.position", [code])


def test_people_who_share_a_surname_stay_apart(tmp_path):
    db_path = sync_versions(
        tmp_path,
        # S01E01 given to another Wen (S01E02 is David Wen's); S03E01's speaker is a Kooi too
        {"Roxana Daneshjou": "Daniel Wen", "Andre Pacheco": "Thomas Kooi"},
        # the line of S03E01 now names another person of the same surname
        {"Roxana Daneshjou": "Daniel Wen", "Andre Pacheco": "Thomas Kooi", "Thijs Kooi": "Tijmen Kooi"},
    )
    wens = {r["name"] for r in rows(db_path, "SELECT name FROM speakers WHERE name LIKE '% Wen'")}
    kooi = {r["name"] for r in rows(db_path, "SELECT name FROM speakers WHERE name LIKE '% Kooi'")}
    assert wens == {"Daniel Wen", "David Wen"}
    assert kooi == {"Thijs Kooi", "Thomas Kooi", "Tijmen Kooi"}
    assert speaker_of(db_path, "S03E01")[0]["name"] == "Tijmen Kooi"


def test_a_name_respelled_on_the_same_talk_is_the_same_speaker(tmp_path):
    db_path = sync_versions(
        tmp_path,
        {"Andre Pacheco": "Andre Pacheco"},
        {"Andre Pacheco": "André Pacheco"},  # accents
        {"Andre Pacheco": "Ana Pacheco"},  # another given name: another person on that line
    )
    assert [r["name"] for r in speaker_of(db_path, "S03E02")] == ["Ana Pacheco"]
    (first,) = rows(db_path, "SELECT id, name FROM speakers WHERE name LIKE 'Andr_ Pacheco'")
    assert first["name"] == "André Pacheco"  # the fuller of the two variants
    assert {r["name"] for r in rows(db_path, "SELECT name FROM speaker_aliases WHERE speaker_id = ?", [first["id"]])} \
        == {"Andre Pacheco", "André Pacheco"}
    assert speaker_of(db_path, "S03E02")[0]["id"] != first["id"]


def test_one_talk_never_gives_two_of_its_speakers_one_row(tmp_path):
    """Two people of one talk whose names are variants of each other stay two."""
    db_path = sync_versions(tmp_path, {"Lily Zhang": "Lily Compton", "Rhys Compton": "Lily Zhang-Compton"})
    assert [r["name"] for r in speaker_of(db_path, "S04E02")] == ["Lily Zhang-Compton", "Lily Compton"]
    assert len({r["id"] for r in speaker_of(db_path, "S04E02")}) == 2


def test_a_database_from_before_aliases_merges_its_duplicates_at_the_next_sync(tmp_path):
    """Built by the old code: "Malihe Alikhani" (announced) and "Malih Alikhani" (listed)
    were two rows, and no speaker had aliases. The next sync links the talk to the older
    row, under the fuller name, and the younger one is retired."""
    db_path = sync_versions(tmp_path, {"Malih Alikhani": "Malihe Alikhani"})
    con = sqlite3.connect(db_path)
    with con:  # what the old code left: a second row for the respelled name, linked live
        (talk_id,) = con.execute("SELECT id FROM talks WHERE code = 'S06E03'").fetchone()
        (old_id,) = con.execute("SELECT id FROM speakers WHERE name = 'Malihe Alikhani'").fetchone()
        con.execute("INSERT INTO speakers (name, name_ascii, first_seen_run, last_seen_run)"
                    " VALUES ('Malih Alikhani', 'malih alikhani', 2, 2)")
        (young_id,) = con.execute("SELECT id FROM speakers WHERE name = 'Malih Alikhani'").fetchone()
        con.execute("UPDATE talk_speakers SET removed_at = '2026-01-01' WHERE talk_id = ? AND speaker_id = ?",
                    [talk_id, old_id])
        con.execute("INSERT INTO talk_speakers (talk_id, speaker_id, position, first_seen_run, last_seen_run)"
                    " VALUES (?, ?, 0, 2, 2)", [talk_id, young_id])
        con.execute("DELETE FROM speaker_aliases")
    con.close()

    db_path = sync_versions(tmp_path, {"Malih Alikhani": "Malih Alikhani"})

    assert speaker_of(db_path, "S06E03")[0] == {"id": old_id, "name": "Malihe Alikhani"}
    assert rows(db_path, "SELECT removed_at IS NOT NULL AS retired FROM speakers WHERE id = ?", [young_id]) == [
        {"retired": 1}]
    assert {r["name"] for r in rows(db_path, "SELECT name FROM speaker_aliases WHERE speaker_id = ?", [old_id])} == {
        "Malih Alikhani"}
