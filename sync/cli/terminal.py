"""Everything the commands print passes here: text from outside never drives a terminal.

A page title, an API error message, a caption file's name or a stored `sync_runs.error`
may hold ESC sequences (set the window title, move the cursor, rewrite a line), a
carriage return or a newline (forge a log line), C1 controls, bidirectional overrides or
a lone surrogate (an undecodable file name). `visible()` shows each as an escape
(`\\x1b`, `\\r`, `\\u202e`), so the text stays readable and inert. A line break is kept
only where the output means one: `echo` takes its lines one by one, and every line is
made a single line.
"""
from __future__ import annotations

import json
import re
import sys
from typing import IO

import click

# C0 controls but tab, DEL and C1 controls, the Unicode line and paragraph separators,
# the bidirectional marks and overrides, and lone surrogates.
_CONTROLS = "\x00-\x08\x0a-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff"
_UNSAFE = re.compile(f"[{_CONTROLS}]")
_UNSAFE_BUT_NEWLINE = re.compile(f"[{_CONTROLS.replace(chr(10) + '-', chr(11) + '-')}]")
_SHORT = {"\n": "\\n", "\r": "\\r", "\x1b": "\\x1b"}


def _escape(match: re.Match) -> str:
    char = match.group()
    if char in _SHORT:
        return _SHORT[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: object, newlines: bool = False) -> str:
    """`text` with every control character shown as an escape; with `newlines`, line
    breaks are kept (for text whose lines are already each one line)."""
    return (_UNSAFE_BUT_NEWLINE if newlines else _UNSAFE).sub(_escape, str(text))


_JSON_UNSAFE = re.compile("[\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def json_text(value, **options) -> str:
    """JSON that is safe on a terminal: json escapes C0 controls itself; the rest of what
    `visible` escapes becomes a \\u escape (the same string to any JSON reader)."""
    text = json.dumps(value, ensure_ascii=False, **options)
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def echo(*lines: object, err: bool = False) -> None:
    """Print `lines`, each one line (a break inside one is shown as \\n)."""
    click.echo("\n".join(visible(line) for line in lines), err=err)


def echo_text(text: str, err: bool = False, nl: bool = True) -> None:
    """Print text whose line breaks are meant (a report built line by line, CSV); every other
    control character is shown as an escape."""
    click.echo(visible(text, newlines=True), err=err, nl=nl)


def live(message: object) -> None:
    """The live progress line on a terminal: it rewrites itself."""
    click.echo(f"\r\x1b[K… {visible(message)}", err=True, nl=False)


def end_live() -> None:
    """Clear the live line (the summary or an error takes its place)."""
    click.echo("\r\x1b[K", err=True, nl=False)


class VisibleStream:
    """A text stream that writes through `visible(..., newlines=True)`: what a server prints
    (Datasette quotes the SQL of a failed query, uvicorn a bad request) is inert."""

    def __init__(self, stream: IO[str]):
        self._stream = stream

    def write(self, text: str) -> int:
        if not isinstance(text, str):  # a text stream: click probes with b"" to tell
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        self._stream.write(visible(text, newlines=True))
        return len(text)

    def __getattr__(self, name):
        if name == "buffer":  # no way around the cleaning: writers that want bytes get none
            raise AttributeError(name)
        return getattr(self._stream, name)


def guard_process_output() -> None:
    """Make this process's stdout and stderr inert for the rest of its life (`talks serve`)."""
    if not isinstance(sys.stdout, VisibleStream):
        sys.stdout = VisibleStream(sys.stdout)
    if not isinstance(sys.stderr, VisibleStream):
        sys.stderr = VisibleStream(sys.stderr)
