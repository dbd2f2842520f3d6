"""Security headers on every response the server sends: pages, JSON, CSV, feeds, static
files, redirects, errors, refusals.

- `X-Content-Type-Options: nosniff`: a browser never takes a JSON or CSV answer holding
  `<script>` (any stored text can) for HTML.
- `Content-Security-Policy`: the archive's own pages send their own (views.py: only the
  site's script files run). Datasette's pages get one that runs only scripts from this
  server and the few inline scripts Datasette's templates carry, each allowed by its
  SHA-256 (computed here from the installed templates, so an upgrade keeps them working):
  a script that escaped escaping could not run.
- `X-Frame-Options` and `frame-ancestors`: no other site frames these pages; and
  `Referrer-Policy`: other sites learn the origin only, not the query that was searched.
"""
from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

__all__ = ["DATASETTE_CSP", "SECURITY_HEADERS", "inline_script_hashes", "security_headers"]

# Inline scripts whose only template variable is one of these, with every value it can take.
_VARIABLES = {"{{ datasette_allow_facet }}": ("true", "false")}
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.S)


def inline_script_hashes() -> list[str]:
    """CSP sources for the inline scripts of Datasette's templates (the archive overrides the rest)."""
    import datasette

    from . import TEMPLATES

    sources = []
    for template in sorted((Path(datasette.__file__).parent / "templates").glob("*.html")):
        if (TEMPLATES / template.name).exists():
            continue  # the archive's own version is served instead
        for script in _INLINE_SCRIPT.findall(template.read_text(encoding="utf-8")):
            variants = [script]
            for variable, values in _VARIABLES.items():
                if variable in script:
                    variants = [v.replace(variable, value) for v in variants for value in values]
            for text in variants:
                if "{{" in text or "{%" in text:
                    continue  # depends on data: not allowed (none in Datasette 0.65)
                digest = base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")
                sources.append(f"'sha256-{digest}'")
    return sources


DATASETTE_CSP = (
    "default-src 'self'; script-src 'self' " + " ".join(inline_script_hashes()) + "; "
    "style-src 'self' 'unsafe-inline'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'self'"
)
SECURITY_HEADERS = {
    b"x-content-type-options": b"nosniff",
    b"content-security-policy": DATASETTE_CSP.encode("ascii"),
    b"x-frame-options": b"SAMEORIGIN",
    b"referrer-policy": b"strict-origin-when-cross-origin",
}


def security_headers(app):
    """ASGI middleware: each of SECURITY_HEADERS a response does not set itself is added."""

    async def wrapped(scope, receive, send):
        if scope.get("type") != "http":
            return await app(scope, receive, send)

        async def send_with_headers(message):
            if message.get("type") == "http.response.start":
                headers = list(message.get("headers") or [])
                present = {bytes(name).lower() for name, _ in headers}
                headers += [[name, value] for name, value in SECURITY_HEADERS.items() if name not in present]
                message = {**message, "headers": headers}
            await send(message)

        await app(scope, receive, send_with_headers)

    return wrapped
