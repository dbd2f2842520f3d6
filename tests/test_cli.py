"""End to end through the CLI: pages in, whole rows out."""

import pytest

from sync.cli import cli

from .conftest import CORPUS, FIXTURES, rows

WEBINAR = str(FIXTURES / "pages" / "2026-08-11_dd744744_webinar.md")
TALKS = str(FIXTURES / "pages" / "2026-08-11_dd744744_webinar_talks.md")
MOVED = str(FIXTURES / "pages" / "2025-11-18_9a21755d_webinar.md")

DATA_TABLES = ["talks", "speakers", "talk_speakers", "videos", "playlist_items", "matches", "changes"]


def sync_pages(runner, db_path, page=WEBINAR, talks=TALKS, *extra):
    args = ["sync", "--db", db_path, "--page", page, "--today", "2026-08-11", "--source", "none"]
    args += ["--talks-page", talks] if talks else ["--no-talks-page"]
    return runner.invoke(cli, args + list(extra))


def snapshot_of(db_path):
    return {t: rows(db_path, f"select * from [{t}] order by 1, 2") for t in DATA_TABLES}


def test_sync_pages_stores_every_talk_with_whole_rows(runner, db_path):
    result = sync_pages(runner, db_path)
    assert result.exit_code == 0, result.output
    assert "30 talks" in result.output
    counts = rows(db_path, "select status, count(*) n from talks group by status order by status")
    assert counts == [
        {"status": "listed", "n": 26},
        {"status": "unlisted", "n": 1},
        {"status": "upcoming", "n": 3},
    ]
    s05e01 = rows(db_path, "select * from talks where code = 'S05E01'")[0]
    assert s05e01["abstract"].startswith("One of the core goals of responsible AI development")
    del s05e01["abstract"], s05e01["bio"]
    assert s05e01 == {
        "id": 12,
        "code": "S05E01",
        "page_code": "S05E01",
        "season": 5,
        "episode": 1,
        "status": "listed",
        "title": "Ground Truth Or Dare: Factors Affecting The Creation Of Medical Datasets For Training AI",
        "date": "2024-03-25",
        "date_text": "25th March 2024",
        "speakers": "Hubert Dariusz Zając and Natalia-Rozalia Avlona",
        "speakers_ascii": "hubert dariusz zajac and natalia-rozalia avlona",
        "affiliation": "University of Copenhagen, Denmark",
        "topic": None,
        "page_video_id": "cQGKHaYj4Ak",
        "talks_page_video_id": "cQGKHaYj4Ak",
        "video_id": None,
        "recording_url": None,
        "first_seen_run": 1,
        "last_seen_run": 1,
        "removed_at": None,
    }
    speakers = rows(
        db_path,
        "select s.name, s.honorific, ts.position from talk_speakers ts join speakers s on s.id = ts.speaker_id"
        " where ts.talk_id = 12 order by ts.position",
    )
    assert speakers == [
        {"name": "Hubert Dariusz Zając", "honorific": None, "position": 0},
        {"name": "Natalia-Rozalia Avlona", "honorific": None, "position": 1},
    ]
    assert rows(db_path, "select affiliation from talks where code = 'S09E01'") == [
        {"affiliation": "German Cancer Research Center (DKFZ), Germany"}
    ]
    upcoming = rows(db_path, "select speakers, date, code from talks where status = 'upcoming' order by id")
    assert upcoming == [
        {"speakers": "Leo Joskowicz", "date": None, "code": None},
        {"speakers": "Laura Quinn", "date": None, "code": None},
        {"speakers": "Kumar Abhishek", "date": None, "code": None},
    ]
    assert rows(db_path, "select speakers, code, status from talks where status = 'unlisted'") == [
        {"speakers": "Cathrine Damgaard and Trine Naja Eriksen", "code": None, "status": "unlisted"}
    ]
    assert rows(db_path, "select count(*) n from talks where code is not null and abstract is null") == [{"n": 0}]
    run = rows(db_path, "select status, source, today, talks_seen, error from sync_runs")
    assert run == [{"status": "ok", "source": "none", "today": "2026-08-11", "talks_seen": 30, "error": None}]


def test_search_finds_speakers_without_accents(runner, db_path):
    assert sync_pages(runner, db_path).exit_code == 0
    found = rows(
        db_path,
        "select talks.code from talks_fts join talks on talks.rowid = talks_fts.rowid"
        " where talks_fts match 'jimenez' order by talks.code",
    )
    assert found == [{"code": "S07E01"}]


def test_resync_is_idempotent(runner, db_path):
    assert sync_pages(runner, db_path).exit_code == 0
    before = snapshot_of(db_path)
    result = sync_pages(runner, db_path)
    assert result.exit_code == 0
    assert "0 rows changed" in result.output
    after = snapshot_of(db_path)
    # only last_seen_run moves
    for table in after.values():
        for row in table:
            if "last_seen_run" in row:
                row["last_seen_run"] = 1
    assert after == before


@pytest.mark.parametrize(
    "content, expected",
    [
        (TALKS, "is not the webinar page"),
        (b"", "is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00binary", "binary"),
        (b"caf\xe9 latin-1 text", "UTF-8"),
        (b"# My notes\n\nJust a README.\n", "is not the webinar page"),
    ],
    ids=["talks-page", "empty", "binary", "latin1", "readme"],
)
def test_bad_page_is_one_line_error_naming_the_input_and_changes_nothing(runner, db_path, tmp_path, content, expected):
    assert sync_pages(runner, db_path).exit_code == 0
    before = snapshot_of(db_path)
    bad = tmp_path / "bad.md"
    if isinstance(content, bytes):
        bad.write_bytes(content)
    else:
        bad.write_bytes(open(content, "rb").read())
    result = sync_pages(runner, db_path, str(bad))
    assert result.exit_code == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and result.stderr.rstrip().endswith(errors[0]), result.stderr
    assert str(bad) in errors[0] and expected in errors[0], errors[0]
    assert snapshot_of(db_path) == before
    runs = rows(db_path, "select status, error from sync_runs order by id")
    assert [r["status"] for r in runs] == ["ok", "failed"]
    assert str(bad) in runs[1]["error"]


def test_missing_page_file_is_clear(runner, db_path, tmp_path):
    result = sync_pages(runner, db_path, str(tmp_path / "nope.md"))
    assert result.exit_code == 1
    assert "nope.md: no such file" in result.stderr


def test_announced_talk_is_reconciled_with_its_coded_record(runner, db_path):
    """September 2023 announces Kooi and Pacheco; the next version lists them as S03E01/S03E02."""
    announced = str(FIXTURES / "pages" / "2023-09-29_dcaa63a0_webinar.md")
    assert sync_pages(runner, db_path, str(FIXTURES / "pages" / "2023-09-06_2d5b8dba_webinar.md"), None).exit_code == 0
    before = rows(db_path, "select id, status, code from talks where speakers like '%Kooi%'")
    assert before == [{"id": before[0]["id"], "status": "upcoming", "code": None}]
    assert sync_pages(runner, db_path, announced, None).exit_code == 0
    after = rows(db_path, "select id, status, code, title from talks where speakers like '%Kooi%'")
    assert after == [
        {"id": before[0]["id"], "status": "listed", "code": "S03E01",
         "title": "Optimizing annotation cost for AI based medical image analysis"}
    ]


@pytest.mark.slow
def test_replaying_every_page_version_gives_each_talk_once(db_path):
    """History backfill: all 77 versions in commit order end in the newest page's talks, no duplicates."""
    from .history import replay_page_history

    assert replay_page_history(db_path) == 77
    live = rows(db_path, "select status, count(*) n from talks where removed_at is null group by status order by status")
    assert live == [{"status": "listed", "n": 26}, {"status": "unlisted", "n": 1}, {"status": "upcoming", "n": 3}]
    assert rows(db_path, "select count(*) n from talks") == [{"n": 30}]
    duplicated = rows(db_path, "select speakers, count(*) n from talks group by speakers having n > 1")
    assert duplicated == []


def test_shrink_guard_refuses_the_moved_notice(runner, db_path):
    assert sync_pages(runner, db_path).exit_code == 0
    before = snapshot_of(db_path)
    result = sync_pages(runner, db_path, MOVED, None)
    assert result.exit_code == 1
    assert "--allow-shrink" in result.stderr
    assert snapshot_of(db_path) == before
    allowed = sync_pages(runner, db_path, MOVED, None, "--allow-shrink")
    assert allowed.exit_code == 0
    assert rows(db_path, "select count(*) n from talks where removed_at is null") == [{"n": 0}]
    assert rows(db_path, "select count(*) n from talks") == [{"n": 30}]
