"""Past talks with no watchable recording, and why (`talks missing`)."""
from __future__ import annotations

import datetime as dt
from typing import Optional

import sqlite_utils

from db.reports import missing_recordings_sql


def missing_report(db_path: str, today: Optional[dt.date] = None) -> tuple[list[str], list[dict]]:
    """The missing_recordings view's columns and rows, counted from `today` when given
    (else from the last sync's today, as the view does)."""
    db = sqlite_utils.Database(db_path)
    try:
        if today is None:
            cursor = db.execute("SELECT * FROM missing_recordings")
        else:
            cursor = db.execute(missing_recordings_sql(":today"), {"today": today.isoformat()})
        columns = [d[0] for d in cursor.description]
        return columns, [dict(zip(columns, row)) for row in cursor.fetchall()]
    finally:
        db.close()
