"""Replaying the series' page history (tests/fixtures/corpus) through real syncs."""
from __future__ import annotations

import datetime as dt
import json

from sync.pipeline import SyncOptions, run_sync

from .conftest import CORPUS

HISTORY_REPO = "medical-datasets/medical-datasets.github.io"


def history_entries() -> list[dict]:
    """The corpus versions of the series' own repository, oldest commit first."""
    index = json.loads((CORPUS / "index.json").read_text())
    return sorted((e for e in index if e["repository"] == HISTORY_REPO), key=lambda e: e["committed"])


def replay_page_history(db_path: str) -> int:
    """Sync every webinar page version in commit order (pages only), each with the talks
    page of its time; returns how many versions were synced."""
    talks_page, versions = None, 0
    for entry in history_entries():
        if entry["page"] == "webinar_talks":
            talks_page = str(CORPUS / entry["file"])
            continue
        run_sync(SyncOptions(
            db_path=db_path, webinar_page=str(CORPUS / entry["file"]), talks_page=talks_page,
            today=dt.date.fromisoformat(entry["committed"][:10]), source="none", allow_shrink=True,
        ), progress=lambda message: None)
        versions += 1
    return versions
