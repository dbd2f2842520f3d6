"""Recordings end to end: which video is each talk's recording, and the organizers' reports.

`talks sync --source api` runs against the local stand-in of the Data API
(tests/apiserver.py) on copies of the real pages of 2026-08-11, edited so that the
playlist holds every title style and every hard case:

    title styles  "Name: Title", "Title | Name", "Title - Name (Affiliation)",
                  "SxxEyy - ...", "[S03E02] ...", accents both ways, "..." truncation,
                  the speaker named in the description only, the code in the description
    hard cases    a private and a deleted linked video, a re-upload behind a stale
                  (private) page link, a page link to a public video outside the playlist,
                  a link to nothing, a page copying another talk's link, extra uploads
                  that are no talk, decoys (same title, another speaker), a teaser
                  published before its talk, an unlisted recording, a talk dated after
                  --today, upcoming talks with a date, an announced talk never listed

Every test asserts whole values: the code -> talks.video_id mapping, the matches,
and each row of missing_recordings, stale_links and unmatched_videos.
"""
from __future__ import annotations

import csv
import io
import json
import re
import shutil

import pytest
from click.testing import CliRunner

from sync import youtube
from sync.cli import EXIT_MISSING, cli

from .apiserver import deleted_item, make_video, private_item, running_api_server
from .conftest import FIXTURES, rows

WEBINAR = FIXTURES / "pages" / "2026-08-11_dd744744_webinar.md"
TALKS = FIXTURES / "pages" / "2026-08-11_dd744744_webinar_talks.md"

KEY = "TEST-KEY-recordings-7"
PLAYLIST = "PLrecordingsLookingGlass"
TODAY = "2026-08-11"
ANNOUNCED_ON = "2026-05-01"  # the first sync: a page version announcing Kwame Mensah's talk

# ids of uploads the real pages never link (all 11 characters, as YouTube's)
BRON_REUPLOAD = "bronReupld1"
BAID = "vidBaid0000"
PACHECO = "vidPacheco0"
ZAJAC = "vidZajac000"
REINKE = "vidReinke00"
ALICE_JIN = "vidAliceJin"
LEE = "vidLee00000"
RAHAMAN = "vidRahaman0"
RESTREPO = "vidRestrepo"
CHRISTODOULOU = "vidChristod"
DECOY_FLEMING = "decoyFlemng"
DECOY_LEE = "decoyLee000"
TRAILER = "vidTrailer0"
HIGHLIGHTS = "vidHighlite"
TEASER = "vidTeaser00"
# added by tests that change the playlist
SELVAN_REUPLOAD = "vidSelvan02"
FLEMING = "vidFleming1"

# ids the real pages link
DANESHJOU = "hDKuw28ATe4"  # S01E01: private
WEN = "1qH-FpyqXtM"  # S01E02: deleted
FLEMING_LINK = "bWs0y9HmzbE"  # S01E03: YouTube has no such video
SIMPSON = "K0iLXnqb7A4"  # S02E01: public, outside the playlist
BRON_OLD = "Gh_dscrjdG4"  # S02E02: the first upload, now private; the page still links it
KOOI = "VlHRsMC96y0"
SCHROUFF = "Z_wULE3_exE"  # S04E01's; the S04E02 line links it too (a copy-paste slip)
COMPTON = "aWhryWZc3Jo"  # S04E02's real link, which the edited pages no longer give
FERRANTE = "cSoYLx--2h4"
BISSOTO = "CqVfN8gkQjg"
CHAPTOUKAEV = "V3LT9aj5MlE"
ALICE_JIN_LINK = "RCyQ4nV-vFk"
ALIKHANI = "_ZzRJFdK2pI"
JIMENEZ = "_lSc2msTMbY"
RUMALA = "qTSoF8wCbNA"
ARASE = "KrNmLEttc9k"  # unlisted, in the playlist
SAMBYAL = "UHk2lmowLPw"
SELVAN = "ZKkgiQinQPM"

# Talks without a code are keyed by their speakers.
KWAME = "Kwame Mensah"
DAMGAARD = "Cathrine Damgaard and Trine Naja Eriksen"
UPCOMING = ["Leo Joskowicz", "Laura Quinn", "Kumar Abhishek"]

# The ground truth: each talk's recording on the test playlist (None: it has none).
TRUTH = {
    "S01E01": DANESHJOU,  # private: its recording, gone
    "S01E02": WEN,  # deleted: its recording, gone
    "S01E03": None,  # the link goes nowhere; a decoy has its title
    "S02E01": SIMPSON,
    "S02E02": BRON_REUPLOAD,
    "S02E03": BAID,
    "S03E01": KOOI,
    "S03E02": PACHECO,
    "S04E01": SCHROUFF,
    "S04E02": None,  # its line links S04E01's recording
    "S04E03": FERRANTE,
    "S05E01": ZAJAC,
    "S05E02": REINKE,
    "S05E03": BISSOTO,
    "S06E01": CHAPTOUKAEV,
    "S06E02": ALICE_JIN,
    "S06E03": ALIKHANI,
    "S07E01": JIMENEZ,
    "S07E02": LEE,
    "S07E03": RUMALA,
    "S08E01": RAHAMAN,
    "S08E02": RESTREPO,
    "S08E03": ARASE,
    "S09E01": CHRISTODOULOU,
    "S09E02": SAMBYAL,
    "S09E03": SELVAN,
    "S10E01": None,  # after --today; only a teaser published before it
    KWAME: None,
    DAMGAARD: None,
    **{name: None for name in UPCOMING},
}

GONE = {DANESHJOU, WEN}  # recordings nobody can watch

METHODS = {
    "S01E01": "page_link",
    "S01E02": "page_link",
    "S02E01": "page_link",
    "S02E02": "episode_code",
    "S02E03": "episode_code",
    "S03E01": "page_link",
    "S03E02": "episode_code",
    "S04E01": "page_link",
    "S04E03": "page_link",
    "S05E01": "title_speaker",
    "S05E02": "title_speaker",
    "S05E03": "page_link",
    "S06E01": "page_link",
    "S06E02": "talks_page_link",
    "S06E03": "page_link",
    "S07E01": "page_link",
    "S07E02": "title_speaker",
    "S07E03": "page_link",
    "S08E01": "episode_code",
    "S08E02": "title_speaker",
    "S08E03": "page_link",
    "S09E01": "episode_code",
    "S09E02": "page_link",
    "S09E03": "page_link",
}


# ------------------------------------------------------------------ the pages


def unlink_line(text: str, code: str) -> str:
    """The webinar page with the YouTube link of `code`'s line taken off its names."""
    lines = text.splitlines(keepends=True)
    (i,) = [n for n, line in enumerate(lines) if line.startswith(f"* {code} - ")]
    lines[i] = re.sub(r"\[([^\]]+)\]\(https?://(?:www\.)?youtu[^)]*\)", r"\1", lines[i])
    assert "youtu" not in lines[i]
    return "".join(lines)


def drop_line_with(text: str, needle: str) -> str:
    lines = text.splitlines(keepends=True)
    kept = [line for line in lines if needle not in line]
    assert len(kept) == len(lines) - 1, needle
    return "".join(kept)


FUTURE_TALK = (
    "* S10E01 - **Grace Okafor** (University of Lagos, Nigeria). 14th September 2026. "
    "**Consent and data donation in medical imaging**\n"
)
ANNOUNCEMENT = """#### Next webinar: Federated data
Date: **8th June 2026**

Where: **Zoom:**

Speakers:

* **Kwame Mensah** - University of Ghana, Ghana
Title: Federated learning across hospitals without sharing data

"""


def webinar_page(announce: bool = False) -> str:
    text = WEBINAR.read_text("utf-8")
    # talks whose recordings only the playlist can tell: no link on the line
    for code in ("S02E03", "S03E02", "S05E01", "S05E02", "S06E02", "S07E02", "S08E01", "S08E02", "S09E01"):
        text = unlink_line(text, code)
    text = text.replace(COMPTON, SCHROUFF)  # S04E02's line links S04E01's recording
    text = text.replace("Date: **TBA**", "Date: **7th September 2026**")  # the upcoming talks get a date
    selvan_line = next(line for line in text.splitlines(keepends=True) if line.startswith("* S09E03 - "))
    text = text.replace(selvan_line, selvan_line + FUTURE_TALK)
    if announce:
        text = text.replace("#### Previous talks:", ANNOUNCEMENT + "#### Previous talks:")
    return text


def talks_page() -> str:
    text = TALKS.read_text("utf-8")
    for video_id in ("WscAtTU4dzE", "58njMnrzfX8", "cQGKHaYj4Ak", "FQ0MpMqmwlQ", "ebyPOKwxr2c",
                     "xrTUQyVNW70", "Ezk7solsA1w", "AUYmTQrZsRA", COMPTON):
        text = drop_line_with(text, video_id)
    return text.replace(ALICE_JIN_LINK, ALICE_JIN)  # S06E02: only the talks page links its recording


# ------------------------------------------------------------------ the playlist


def upload(video_id: str, title: str, published: str, **kw) -> dict:
    assert len(video_id) == 11, video_id
    return make_video(video_id, title, published_at=f"{published}T17:00:00Z", added_at=f"{published}T18:00:00Z", **kw)


def playlist_entries() -> list[dict]:
    return [
        upload(TRAILER, "Datasets through the Looking-Glass: series trailer", "2023-01-15"),
        private_item(DANESHJOU, added_at="2023-03-01T10:00:00Z"),
        deleted_item(WEN, added_at="2023-03-01T10:00:00Z"),
        upload(DECOY_FLEMING, "Characteristics of skin lesions datasets - Maria Garcia (Hospital Clinic Barcelona)",
               "2023-05-02"),
        private_item(BRON_OLD, added_at="2023-06-12T10:00:00Z"),
        upload(BAID, "S02E03 - Brain tumor segmentation challenge 2023", "2023-06-20"),
        upload(KOOI, "Thijs Kooi: Optimizing annotation cost for AI based medical image analysis", "2023-09-25"),
        upload(PACHECO, "[S03E02] PAD-UFES-20: the challenges and opportunities in creating a skin lesion dataset"
                        " | André Pacheco", "2023-09-25"),
        upload(SCHROUFF, "S04E01 - Detecting shortcut learning for fair medical AI | Jessica Schrouff", "2023-12-10"),
        upload(FERRANTE, "Building and auditing a large-scale x-ray segmentation dataset with automatic annotations"
                         " - Enzo Ferrante", "2023-12-10"),
        upload(HIGHLIGHTS, "Season 3 highlights: S03E01 and S03E02", "2023-12-20"),
        upload(BRON_REUPLOAD, "S02E02 - Image analysis and machine learning competitions in dementia"
                              " - Esther Bron (Erasmus MC)", "2024-01-15"),
        upload(ZAJAC, "Hubert Zajac & Natalia-Rozalia Avlona: Ground Truth Or Dare: Factors Affecting The Creation"
                      " Of Medical...", "2024-04-02"),
        upload(REINKE, "Why your Dataset Matters: Choosing the Right Metrics for Biomedical Image Analysis"
                       " | Annika Reinke", "2024-04-02"),
        upload(BISSOTO, "The Performance of Transferability Metrics does not Translate to Medical Tasks", "2024-04-02"),
        upload(CHAPTOUKAEV, "Acquiring, curating and releasing a multi-modal dataset for stress detection"
                            " | Hava Chaptoukaev & Maria A. Zuluaga", "2025-03-03"),
        upload(ALICE_JIN, "Fair Multimodal Checklists for Interpretable Clinical Time Series Prediction"
                          " - Alice Jin (MIT)", "2025-03-03"),
        upload(ALIKHANI, "S06E03 - Towards Equity: Overcoming Fairness Challenges in Multimodal Learning", "2025-03-03"),
        upload(JIMENEZ, "Amelia Jimenez-Sanchez: In the Picture: Medical Imaging Datasets, Artifacts, and their"
                        " Living Review", "2025-05-20"),
        upload(LEE, "Racial bias in cardiac imaging - Tiarna Lee (King's College London)", "2025-05-20"),
        upload(RUMALA, "Seeing the Same Brain Twice: Data Leakage and Identity Bias in Brain MRI Analysis", "2025-05-20"),
        upload(DECOY_LEE, "Racial bias in cardiac imaging - Marco Rossi (University of Padova)", "2025-06-10"),
        upload(RAHAMAN, "S08E01 - Mamunur Rahaman - Advancing Computational Pathology: Multimodal Datasets and Deep"
                        " Learning Insights", "2025-10-27"),
        upload(RESTREPO, "Opening Eyes: Advancing Equitable AI Through Open Ophthalmology Data", "2025-10-27",
               description="Speaker: David Restrepo (CentraleSupélec, Université Paris-Saclay)."),
        upload(ARASE, "Yuki Arase - Japanese Medical Text Simplification Using Patient Blogs", "2025-10-27",
               privacy="unlisted"),
        upload(CHRISTODOULOU, "From Metrics to Meaning: Making Evaluation Matter in Medical Imaging AI"
                              " – Evangelia Christodoulou", "2026-03-09",
               description="Datasets through the Looking-Glass, episode S09E01 (2nd March 2026)."),
        upload(SAMBYAL, "S09E02 - Beyond Accuracy: Understanding Calibration in Medical Image Classification"
                        " - Abhishek Singh Sambyal", "2026-03-09"),
        upload(SELVAN, "Raghavendra Selvan: Carbon footprint of Medical Image Analysis and Mitigation Strategies",
               "2026-03-09"),
        upload(TEASER, "Coming up: Grace Okafor - Consent and data donation in medical imaging (S10E01)", "2026-08-01"),
    ]


def outside_playlist() -> list[dict]:
    """Videos YouTube has that the playlist does not hold (a page links them)."""
    return [upload(SIMPSON, "The Medical Segmentation Decathlon - Amber Simpson (Queen's University)", "2023-06-12")]


# ------------------------------------------------------------------ fixtures and helpers


def serve(api) -> None:
    api.add_playlist(PLAYLIST, playlist_entries())
    api.add_videos(*outside_playlist())


def write_pages(folder) -> dict:
    paths = {"announced": folder / "webinar-announced.md", "webinar": folder / "webinar.md",
             "talks": folder / "webinar_talks.md"}
    paths["announced"].write_text(webinar_page(announce=True), "utf-8")
    paths["webinar"].write_text(webinar_page(), "utf-8")
    paths["talks"].write_text(talks_page(), "utf-8")
    return paths


@pytest.fixture
def server(monkeypatch):
    with running_api_server(KEY) as api:
        serve(api)
        monkeypatch.setenv("YOUTUBE_API_KEY", KEY)
        monkeypatch.setenv("YOUTUBE_API_ENDPOINT", api.endpoint)
        yield api


pytestmark = pytest.mark.usefixtures("no_retry_waits")  # tests/conftest.py


@pytest.fixture
def pages(tmp_path):
    return write_pages(tmp_path)


def invoke(runner, *args):
    result = runner.invoke(cli, [str(a) for a in args])
    # a crash also exits 1 under CliRunner: only a deliberate exit counts
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
    return result


def ok(result):
    assert result.exit_code == 0, result.output
    return result


def sync(runner, db_path, pages, *, source="api", today=TODAY, page="webinar"):
    args = ["sync", "--db", db_path, "--page", pages[page], "--talks-page", pages["talks"],
            "--today", today, "--source", source, "-q"]
    if source == "api":
        args += ["--playlist", PLAYLIST]
    return ok(invoke(runner, *args))


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    """The archive after two syncs, built once: the page announcing Kwame Mensah (pages
    only, on 2026-05-01), then the page of 2026-08-11 that no longer shows him, with the
    test playlist through the Data API."""
    folder = tmp_path_factory.mktemp("archive")
    paths, db_path = write_pages(folder), str(folder / "talks.db")
    with running_api_server(KEY) as api, pytest.MonkeyPatch.context() as env:
        serve(api)
        env.setenv("YOUTUBE_API_KEY", KEY)
        env.setenv("YOUTUBE_API_ENDPOINT", api.endpoint)
        env.setattr(youtube.execute_request.retry, "sleep", lambda seconds: None)
        runner = CliRunner()
        sync(runner, db_path, paths, source="none", today=ANNOUNCED_ON, page="announced")
        sync(runner, db_path, paths)
    return db_path


@pytest.fixture
def synced(archive, db_path, server):
    """A copy of the archive of this test's own (the sync folds the WAL into the file),
    with the stand-in server serving the same playlist for re-syncs."""
    shutil.copyfile(archive, db_path)
    return db_path


def talk_key(row) -> str:
    return row["code"] or row["speakers"]


def recordings(db_path) -> dict:
    return {talk_key(r): r["video_id"] for r in rows(db_path, "SELECT code, speakers, video_id FROM talks")}


def methods(db_path) -> dict:
    return {
        r["code"]: r["method"]
        for r in rows(db_path, "SELECT code, method FROM matches WHERE removed_at IS NULL ORDER BY code")
    }


def missing(db_path) -> list[dict]:
    return rows(db_path, "SELECT code, title, date, speakers, reason FROM missing_recordings")


def stale(db_path) -> list[dict]:
    return rows(db_path, "SELECT code, page_video_id, video_id, reason FROM stale_links")


def unmatched(db_path) -> list[dict]:
    return rows(db_path, "SELECT video_id, title, availability FROM unmatched_videos")


def decide(runner, db_path, action, code, video_id):
    return invoke(runner, "match", action, "--db", db_path, code, video_id)


def precision_recall(found: dict, truth: dict) -> tuple[float, float, dict]:
    chosen = {k: v for k, v in found.items() if v is not None}
    real = {k: v for k, v in truth.items() if v is not None}
    right = {k for k, v in chosen.items() if real.get(k) == v}
    counts = {"chosen": len(chosen), "right": len(right), "recordings": len(real)}
    return len(right) / len(chosen) if chosen else 1.0, len(right) / len(real) if real else 1.0, counts


# ------------------------------------------------------------------ expected report rows

MISSING_ROWS = [
    {"code": "S01E01", "title": "Challenges with equipoise and fairness in AI/ML datasets in dermatology",
     "date": "2023-02-27", "speakers": "Roxana Daneshjou", "reason": "private"},
    {"code": "S01E02", "title": "Characteristics of open access skin cancer image datasets: implications for"
                                " equitable digital health",
     "date": "2023-02-27", "speakers": "David Wen", "reason": "deleted"},
    {"code": "S01E03", "title": "Characteristics of skin lesions datasets",
     "date": "2023-02-27", "speakers": "Colin Fleming", "reason": "broken_link"},
    {"code": "S04E02", "title": "When more is less: Incorporating additional datasets can hurt performance by"
                                " introducing spurious correlations",
     "date": "2023-12-04", "speakers": "Rhys Compton and Lily Zhang", "reason": "no_video"},
    {"code": None, "title": "Federated learning across hospitals without sharing data",
     "date": "2026-06-08", "speakers": "Kwame Mensah", "reason": "never_listed"},
]

S10E01_MISSING = {"code": "S10E01", "title": "Consent and data donation in medical imaging",
                  "date": "2026-09-14", "speakers": "Grace Okafor", "reason": "no_video"}

# S01E01's and S01E02's links are to their own gone recordings: missing, not stale too
STALE_ROWS = [
    {"code": "S01E03", "page_video_id": FLEMING_LINK, "video_id": None, "reason": "not_found"},
    {"code": "S02E01", "page_video_id": SIMPSON, "video_id": SIMPSON, "reason": "not_in_playlist"},
    {"code": "S02E02", "page_video_id": BRON_OLD, "video_id": BRON_REUPLOAD, "reason": "private"},
    {"code": "S04E02", "page_video_id": SCHROUFF, "video_id": None, "reason": "not_recording"},
]

# The private and deleted entries are talks' (S01E01's and S01E02's recordings, S02E02's
# first upload that its page still links): none is an orphan.
UNMATCHED_ROWS = [
    {"video_id": TRAILER, "title": "Datasets through the Looking-Glass: series trailer", "availability": "public"},
    {"video_id": DECOY_FLEMING, "title": "Characteristics of skin lesions datasets - Maria Garcia (Hospital Clinic"
                                         " Barcelona)", "availability": "public"},
    {"video_id": HIGHLIGHTS, "title": "Season 3 highlights: S03E01 and S03E02", "availability": "public"},
    {"video_id": DECOY_LEE, "title": "Racial bias in cardiac imaging - Marco Rossi (University of Padova)",
     "availability": "public"},
    {"video_id": TEASER, "title": "Coming up: Grace Okafor - Consent and data donation in medical imaging (S10E01)",
     "availability": "public"},
]


# ------------------------------------------------------------------ the sync


def test_every_talk_gets_exactly_its_recording(synced):
    assert recordings(synced) == TRUTH
    assert methods(synced) == METHODS
    assert rows(synced, "SELECT count(*) n FROM talks") == [{"n": len(TRUTH)}]
    # talks.recording_url follows video_id; matches agree with talks
    assert rows(synced, "SELECT code FROM talks WHERE coalesce(recording_url, '') !="
                        " coalesce('https://www.youtube.com/watch?v=' || video_id, '')") == []
    assert rows(synced, "SELECT m.code FROM matches m JOIN talks t ON t.id = m.talk_id"
                        " WHERE m.removed_at IS NULL AND m.video_id IS NOT t.video_id") == []


def test_precision_and_recall_on_the_test_playlist(synced):
    watchable = {k: v for k, v in recordings(synced).items() if v not in GONE}
    precision, recall, counts = precision_recall(watchable, {k: v for k, v in TRUTH.items() if v not in GONE})
    print(f"\nrecordings on the test playlist: precision {precision:.3f} ({counts['right']}/{counts['chosen']}),"
          f" recall {recall:.3f} ({counts['right']}/{counts['recordings']})")
    assert precision == 1.0
    assert recall == 1.0
    assert counts == {"chosen": 22, "right": 22, "recordings": 22}


def test_match_evidence_of_the_hard_cases(synced):
    matched = {r["code"]: r for r in rows(synced, "SELECT code, video_id, method, score, evidence FROM matches")}
    # the page link outside the playlist still names the recording
    assert matched["S02E01"]["evidence"].startswith(f"webinar page links {SIMPSON}")
    # the re-upload is found by its code although the page links the private first upload
    assert matched["S02E02"]["evidence"].startswith("code S02E02 in video title")
    # speaker named only in the description; code only in the description
    assert "speaker 'David Restrepo' in description" in matched["S08E02"]["evidence"]
    assert matched["S09E01"]["evidence"].startswith("code S09E01 in video description")
    # a truncated title with the speaker's name unaccented
    assert "speaker 'Hubert Dariusz Zając' in title" in matched["S05E01"]["evidence"]
    assert "S01E03" not in matched and "S04E02" not in matched and "S10E01" not in matched


def test_reports_list_exactly_the_missing_the_stale_and_the_unmatched(synced):
    assert missing(synced) == MISSING_ROWS
    assert stale(synced) == STALE_ROWS
    assert unmatched(synced) == UNMATCHED_ROWS


def test_resync_changes_nothing(runner, synced, pages):
    before = (recordings(synced), methods(synced), missing(synced), stale(synced), unmatched(synced))
    sync(runner, synced, pages)
    assert (recordings(synced), methods(synced), missing(synced), stale(synced), unmatched(synced)) == before


def test_pages_only_sync_judges_no_link_it_never_looked_up(runner, db_path, pages):
    """With --source none nothing is known of YouTube: no link is called stale or outside a playlist."""
    sync(runner, db_path, pages, source="none")
    assert stale(db_path) == []
    assert unmatched(db_path) == []
    assert set(recordings(db_path).values()) == {None}
    # every past listed talk is missing, none for a reason YouTube would have to tell
    assert {r["reason"] for r in missing(db_path)} == {"no_video"}
    assert [r["code"] for r in missing(db_path)] == [c for c in TRUTH if c.startswith("S0")]


# ------------------------------------------------------------------ talks missing


def test_missing_as_a_table(runner, synced):
    result = ok(invoke(runner, "missing", "--db", synced))
    assert result.stdout == (
        "code    date        reason        speakers                     title\n"
        "S01E01  2023-02-27  private       Roxana Daneshjou             Challenges with equipoise and fairness in AI/ML\n"
        "S01E02  2023-02-27  deleted       David Wen                    Characteristics of open access skin cancer image\n"
        "S01E03  2023-02-27  broken_link   Colin Fleming                Characteristics of skin lesions datasets\n"
        "S04E02  2023-12-04  no_video      Rhys Compton and Lily Zhang  When more is less: Incorporating additional data\n"
        "        2026-06-08  never_listed  Kwame Mensah                 Federated learning across hospitals without shar\n"
        "5 missing\n"
    )


def test_missing_as_json_and_csv(runner, synced):
    as_json = json.loads(ok(invoke(runner, "missing", "--db", synced, "--format", "json")).stdout)
    assert [{k: r[k] for k in ("code", "title", "date", "speakers", "reason")} for r in as_json] == MISSING_ROWS
    as_csv = ok(invoke(runner, "missing", "--db", synced, "--format", "csv")).stdout
    parsed = list(csv.DictReader(io.StringIO(as_csv)))
    assert [{k: r[k] or None for k in ("code", "title", "date", "speakers", "reason")} for r in parsed] == MISSING_ROWS
    assert [set(r) for r in as_json] == [set(r) for r in parsed]
    # nothing missing: the same header, an empty list
    empty_csv = ok(invoke(runner, "missing", "--db", synced, "--format", "csv", "--today", "2023-01-01")).stdout
    assert empty_csv.splitlines() == [as_csv.splitlines()[0]]
    assert ok(invoke(runner, "missing", "--db", synced, "--format", "json", "--today", "2023-01-01")).stdout == "[]\n"


def test_fail_if_any_exits_4_only_when_something_is_missing(runner, synced):
    found = invoke(runner, "missing", "--db", synced, "--fail-if-any", "--format", "json")
    assert found.exit_code == EXIT_MISSING == 4
    assert len(json.loads(found.stdout)) == 5
    clean = invoke(runner, "missing", "--db", synced, "--fail-if-any", "--today", "2023-02-27")
    assert clean.exit_code == 0 and clean.stdout == "nothing missing\n"


def test_today_decides_what_is_past_and_upcoming_talks_are_never_missing(runner, synced):
    def codes(today):
        result = ok(invoke(runner, "missing", "--db", synced, "--format", "json", "--today", today))
        return [r["code"] or r["speakers"] for r in json.loads(result.stdout)]

    assert codes("2023-02-27") == []  # talks of the day itself are not past yet
    assert codes("2023-02-28") == ["S01E01", "S01E02", "S01E03"]
    assert codes("2026-06-08") == ["S01E01", "S01E02", "S01E03", "S04E02"]
    assert codes(TODAY) == ["S01E01", "S01E02", "S01E03", "S04E02", KWAME]
    # after S10E01's date it is missing too; the upcoming talks (dated 2026-09-07) never are
    assert codes("2027-01-01") == ["S01E01", "S01E02", "S01E03", "S04E02", KWAME, "S10E01"]
    assert rows(synced, "SELECT speakers, date, status FROM talks WHERE status = 'upcoming' ORDER BY id") == [
        {"speakers": name, "date": "2026-09-07", "status": "upcoming"} for name in UPCOMING
    ]
    # the view counts from the last sync's --today
    assert missing(synced) == MISSING_ROWS
    assert rows(synced, "SELECT * FROM missing_recordings WHERE code = 'S10E01'") == []


def test_the_view_follows_the_last_syncs_today(runner, synced, pages):
    sync(runner, synced, pages, today="2026-12-01")
    assert missing(synced) == MISSING_ROWS + [S10E01_MISSING]


# ------------------------------------------------------------------ organizers' decisions


def test_reject_and_pin_survive_resyncs_and_a_changed_playlist(runner, synced, pages, server):
    # S09E03's page link is the wrong video, say the organizers
    result = ok(decide(runner, synced, "reject", "s09e03", SELVAN))
    assert result.stdout.startswith(f"rejected {SELVAN} for S09E03")
    assert recordings(synced)["S09E03"] is None
    # the decoy is Fleming's talk after all (re-titled by mistake)
    ok(decide(runner, synced, "pin", "S01E03", DECOY_FLEMING))
    # S04E02's recording is a video no sync has seen yet: pinned anyway, and said so
    result = ok(decide(runner, synced, "pin", "S04E02", f"https://youtu.be/{COMPTON}?si=abc"))
    assert result.stdout.startswith(f"pinned {COMPTON} for S04E02")
    assert "no sync has seen" in result.stdout

    expected = {**TRUTH, "S09E03": None, "S01E03": DECOY_FLEMING, "S04E02": COMPTON}
    expected_methods = {**METHODS, "S01E03": "manual", "S04E02": "manual"}
    del expected_methods["S09E03"]
    assert recordings(synced) == expected
    assert methods(synced) == expected_methods
    expected_missing = [
        MISSING_ROWS[0], MISSING_ROWS[1],  # S01E03 now has its (pinned) recording, S04E02 too
        {"code": "S09E03", "title": "Carbon footprint of Medical Image Analysis and Mitigation Strategies",
         "date": "2026-03-02", "speakers": "Raghavendra Selvan", "reason": "no_video"},
        MISSING_ROWS[4],
    ]
    assert missing(synced) == expected_missing
    expected_stale = [
        {"code": "S01E03", "page_video_id": FLEMING_LINK, "video_id": DECOY_FLEMING, "reason": "not_found"},
        STALE_ROWS[1], STALE_ROWS[2],
        {"code": "S04E02", "page_video_id": SCHROUFF, "video_id": COMPTON, "reason": "not_recording"},
        {"code": "S09E03", "page_video_id": SELVAN, "video_id": None, "reason": "not_recording"},
    ]
    assert stale(synced) == expected_stale
    assert DECOY_FLEMING not in {r["video_id"] for r in unmatched(synced)}
    # the rejected video is no talk's, but the page links it for S09E03: reported once, as
    # that stale link, not as an orphan too (db/reports.py)
    assert SELVAN not in {r["video_id"] for r in unmatched(synced)}

    # a re-sync keeps every decision, and looks the pinned video up: YouTube has no such
    # video (yet), so S04E02 keeps its pin but is reported missing with a broken link
    sync(runner, synced, pages)
    assert recordings(synced) == expected
    assert methods(synced) == expected_methods
    s04e02 = {"code": "S04E02", "title": "When more is less: Incorporating additional datasets can hurt"
              " performance by introducing spurious correlations", "date": "2023-12-04",
              "speakers": "Rhys Compton and Lily Zhang", "reason": "broken_link"}
    assert missing(synced) == sorted(expected_missing + [s04e02], key=lambda r: (r["date"], r["code"] or ""))
    assert stale(synced) == expected_stale

    # the playlist changes: better candidates appear for the pinned and the rejected talks,
    # and the pinned unknown video turns up
    server.append_to_playlist(PLAYLIST, upload(
        SELVAN_REUPLOAD, "S09E03 - Carbon footprint of Medical Image Analysis and Mitigation Strategies"
                         " - Raghavendra Selvan", "2026-04-01"))
    server.append_to_playlist(PLAYLIST, upload(
        FLEMING, "S01E03 - Characteristics of skin lesions datasets - Colin Fleming", "2026-04-01"))
    server.append_to_playlist(PLAYLIST, upload(
        COMPTON, "S04E02 - When more is less - Rhys Compton & Lily Zhang", "2023-12-10"))
    sync(runner, synced, pages)
    expected = {**expected, "S09E03": SELVAN_REUPLOAD}  # the rejected link stays out, the re-upload is in
    assert recordings(synced) == expected
    assert methods(synced) == {**expected_methods, "S09E03": "episode_code"}
    assert missing(synced) == [MISSING_ROWS[0], MISSING_ROWS[1], MISSING_ROWS[4]]
    assert stale(synced) == [
        *expected_stale[:3],
        {"code": "S04E02", "page_video_id": SCHROUFF, "video_id": COMPTON, "reason": "not_recording"},
        {"code": "S09E03", "page_video_id": SELVAN, "video_id": SELVAN_REUPLOAD, "reason": "not_recording"},
    ]
    assert unmatched(synced) == [  # SELVAN is still S09E03's stale link (above), not an orphan too
        *UNMATCHED_ROWS[:1],
        *UNMATCHED_ROWS[2:4],
        {"video_id": FLEMING, "title": "S01E03 - Characteristics of skin lesions datasets - Colin Fleming",
         "availability": "public"},
        UNMATCHED_ROWS[4],
    ]
    decisions = rows(synced, "SELECT code, video_id, action FROM match_decisions ORDER BY decided_at")
    assert decisions == [
        {"code": "S09E03", "video_id": SELVAN, "action": "reject"},
        {"code": "S01E03", "video_id": DECOY_FLEMING, "action": "pin"},
        {"code": "S04E02", "video_id": COMPTON, "action": "pin"},
    ]


def test_a_newer_pin_supersedes_an_older_one_and_nothing_is_deleted(runner, synced, pages):
    ok(decide(runner, synced, "pin", "S07E02", DECOY_LEE))
    assert recordings(synced)["S07E02"] == DECOY_LEE
    assert LEE in {r["video_id"] for r in unmatched(synced)}
    ok(decide(runner, synced, "pin", "S07E02", LEE))
    assert recordings(synced)["S07E02"] == LEE
    # rejecting the newer pin does not bring the superseded one back
    result = ok(decide(runner, synced, "reject", "S07E02", LEE))
    assert "S07E02 has no recording now" in result.stdout
    assert recordings(synced)["S07E02"] is None
    sync(runner, synced, pages)
    assert recordings(synced)["S07E02"] is None
    assert rows(synced, "SELECT code, video_id, action FROM match_decisions ORDER BY decided_at") == [
        {"code": "S07E02", "video_id": DECOY_LEE, "action": "superseded"},
        {"code": "S07E02", "video_id": LEE, "action": "reject"},
    ]
    # every decision is in the change log, in order
    logged = rows(synced, "SELECT row_key, column_name, old_value, new_value FROM changes"
                          " WHERE table_name = 'match_decisions' AND column_name = 'action' ORDER BY id")
    assert logged == [
        {"row_key": f"{talk_id(synced, 'S07E02')}/{DECOY_LEE}", "column_name": "action", "old_value": None,
         "new_value": "pin"},
        {"row_key": f"{talk_id(synced, 'S07E02')}/{LEE}", "column_name": "action", "old_value": None,
         "new_value": "pin"},
        {"row_key": f"{talk_id(synced, 'S07E02')}/{DECOY_LEE}", "column_name": "action", "old_value": "pin",
         "new_value": "superseded"},
        {"row_key": f"{talk_id(synced, 'S07E02')}/{LEE}", "column_name": "action", "old_value": "pin",
         "new_value": "reject"},
    ]
    # pinning the old one again is a new decision, and it wins
    ok(decide(runner, synced, "pin", "S07E02", DECOY_LEE))
    assert recordings(synced)["S07E02"] == DECOY_LEE


def test_a_pin_moves_a_video_from_one_talk_to_another(runner, synced):
    ok(decide(runner, synced, "pin", "S04E02", SCHROUFF))  # the page's slip was right after all
    found = recordings(synced)
    assert (found["S04E02"], found["S04E01"]) == (SCHROUFF, None)
    assert missing(synced)[3]["code"] == "S04E01"


def test_pinning_a_private_video_keeps_the_talk_missing_and_says_so(runner, synced):
    result = ok(decide(runner, synced, "pin", "S01E01", DANESHJOU))
    assert "private" in result.stdout
    assert recordings(synced)["S01E01"] == DANESHJOU
    assert missing(synced)[0] == MISSING_ROWS[0]


def test_decisions_leave_the_reports_today_alone(runner, synced):
    ok(decide(runner, synced, "reject", "S09E03", SELVAN))
    # the view still counts from the last sync's --today, not the day of the decision
    assert [r["code"] for r in missing(synced)] == ["S01E01", "S01E02", "S01E03", "S04E02", "S09E03", None]


def test_bad_decisions_are_one_line_errors(runner, synced):
    unknown = decide(runner, synced, "pin", "S42E01", LEE)
    assert unknown.exit_code == 1 and unknown.stderr.startswith("Error: no talk has the code S42E01")
    bad_id = decide(runner, synced, "pin", "S07E02", "not a video")
    assert bad_id.exit_code == 1 and "not a YouTube video id" in bad_id.stderr
    assert rows(synced, "SELECT count(*) n FROM match_decisions") == [{"n": 0}]


def talk_id(db_path, code) -> int:
    return rows(db_path, "SELECT id FROM talks WHERE code = ?", [code])[0]["id"]
