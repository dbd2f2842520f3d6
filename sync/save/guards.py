"""What a save refuses: a source that suddenly shows far fewer talks, playlist items or
watchable videos is more likely broken (the real page once became a "we moved" notice)
than truthful; --allow-shrink accepts it when it is real."""
from __future__ import annotations

from db.reports import NOT_FOUND, WATCHABLE_SQL
from sync.core.errors import ShrinkRefused
from sync.core.limits import MASS_DISAPPEARANCE_MIN, MASS_DISAPPEARANCE_RATIO

SHRINK_RATIO = 0.5  # a source showing less than this share of what is stored is refused


def check_shrink(db, what: str, stored: int, seen: int, allow_shrink: bool) -> None:
    if allow_shrink or stored == 0:
        return
    if seen < stored * SHRINK_RATIO:
        raise ShrinkRefused(
            f"the {what} now shows {seen} where the database holds {stored}; refusing to mark"
            " them removed (rerun with --allow-shrink if this is real)"
        )


def watchable_video_ids(db) -> set[str]:
    return {
        r[0] for r in db.execute(
            f"SELECT video_id FROM videos WHERE removed_at IS NULL AND availability IN {WATCHABLE_SQL}"
        ).fetchall()
    }


# What a broken answer that still parses turns watchable videos into (a flip to private is
# an owner's decision, not a symptom).
VANISHED = frozenset({NOT_FOUND, "deleted", "unavailable"})


def check_mass_disappearance(watchable: set[str], result, allow_shrink: bool) -> None:
    """Refuse a run in which many watchable videos vanish at once (like the talks' shrink guard).

    A broken answer that still parsed must not turn the archive's recordings into
    not_found, deleted or unavailable in one go; --allow-shrink accepts it when it is real.
    `watchable` is what the database held before this run wrote anything.
    """
    gone = {i for i, v in result.videos.items() if i in watchable and v.availability in VANISHED}
    if allow_shrink or len(gone) < MASS_DISAPPEARANCE_MIN or len(gone) < len(watchable) * MASS_DISAPPEARANCE_RATIO:
        return
    raise ShrinkRefused(
        f"YouTube now says {len(gone)} of the {len(watchable)} watchable videos are gone; refusing to"
        " record that (rerun with --allow-shrink if this is real)"
    )
