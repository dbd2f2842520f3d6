"""What Datasette serves besides the database: templates, plugins and static files.

They ship inside the package, so `talks serve` works from a regular install.
`datasette_options()` is the one place that turns them into Datasette's flags.
"""
from __future__ import annotations

from pathlib import Path

from sync.core.limits import SITE_SQL_TIME_LIMIT_MS

SITE = Path(__file__).resolve().parent
TEMPLATES = SITE / "templates"
PLUGINS = SITE / "plugins"
STATIC = SITE / "static"


def _has_files(folder: Path, pattern: str) -> bool:
    return folder.is_dir() and any(folder.glob(pattern))


def datasette_options() -> list[str]:
    """`--template-dir`, `--plugins-dir` and `--static` for the folders that hold files, and
    the SQL time limit (sync/core/limits.py)."""
    options: list[str] = ["--setting", "sql_time_limit_ms", str(SITE_SQL_TIME_LIMIT_MS)]
    if _has_files(TEMPLATES, "**/*.html"):
        options += ["--template-dir", str(TEMPLATES)]
    if _has_files(PLUGINS, "*.py"):
        options += ["--plugins-dir", str(PLUGINS)]
    if _has_files(STATIC, "*"):
        options += ["--static", f"static:{STATIC}"]
    return options
