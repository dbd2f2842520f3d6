"""Keep the API key, and every other secret the process was given, out of everything we
print or store."""
from __future__ import annotations

import os
import re

_KEY_PARAM = re.compile(r"([?&]key=)[^&#\s'\"]+")
# Secrets this process was handed besides the API key (notification URLs and their parts,
# sync.ops.notify.urls): longest first, so a whole URL goes before the token inside it.
_KEPT: list[str] = []


def keep_secret(*values: str) -> None:
    """From now on, blank each of `values` wherever `redact` is applied (every log line,
    error sentence and stored error)."""
    for value in values:
        if value and value not in _KEPT:
            _KEPT.append(value)
    _KEPT.sort(key=len, reverse=True)


def redact(text: object, secrets: tuple[str, ...] = ()) -> str:
    """Return `text` with `key=...` URL parameters and any known secret blanked."""
    s = str(text)
    s = _KEY_PARAM.sub(r"\1REDACTED", s)
    env_key = os.environ.get("YOUTUBE_API_KEY")
    for secret in (*secrets, env_key, *_KEPT):
        if secret:
            s = s.replace(secret, "REDACTED")
    return s
