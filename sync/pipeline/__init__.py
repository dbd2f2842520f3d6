"""The runs that write the archive: one sync (`run_sync`), and the replay of the site's
history (`backfill`), which is one pages-only sync per commit.

    options    SyncOptions (what a sync is asked to do), SyncReport (what it did)
    inputs     read both pages; read YouTube by the path chosen
    refresh    which known videos are described again (the refresh policy)
    guards     refuse a run in which many watchable videos vanish at once
    rematch    the matcher over everything stored, decisions applied
    run        one whole sync: lock, ledger, one transaction
    backfill   `talks backfill`: each page commit of the site repository as a sync
"""
from .options import SyncOptions, SyncReport
from .rematch import rematch
from .run import run_sync

__all__ = ["SyncOptions", "SyncReport", "rematch", "run_sync"]
