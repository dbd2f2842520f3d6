"""Keep the API key out of everything we print or store."""
from __future__ import annotations

import os
import re

_KEY_PARAM = re.compile(r"([?&]key=)[^&#\s'\"]+")


def redact(text: object, secrets: tuple[str, ...] = ()) -> str:
    """Return `text` with `key=...` URL parameters and any known secret blanked."""
    s = str(text)
    s = _KEY_PARAM.sub(r"\1REDACTED", s)
    env_key = os.environ.get("YOUTUBE_API_KEY")
    for secret in (*secrets, env_key):
        if secret:
            s = s.replace(secret, "REDACTED")
    return s
