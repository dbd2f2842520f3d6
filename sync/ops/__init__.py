"""Running it unattended: what a scheduled job needs besides the sync itself.

    status       talks status: is the archive healthy?
    continuity   refuse to replace the kept database with one that lost history
    dbcopy       one self-contained copy of a live database (to keep or publish)
"""
