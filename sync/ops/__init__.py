"""Running it unattended: what a scheduled job needs besides the sync itself."""
