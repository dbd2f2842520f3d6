"""A real `talks serve` (Datasette over the live file) on a free loopback port, for the
browser, key, serving and bench runs. It runs in its own process group, and the
group is ended afterwards, so nothing it started outlives the test."""
from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parent.parent

# Never through a proxy from the environment: Datasette is on loopback.
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_serving(proc: subprocess.Popen, url: str, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"datasette exited with {proc.returncode}:\n{log.read_text(errors='replace')}")
        try:
            with _NO_PROXY.open(f"{url}/-/versions.json", timeout=1.0) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, socket.timeout):
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"datasette did not answer within {timeout:.0f} s:\n{log.read_text(errors='replace')}")
        time.sleep(0.05)


def talks_command(*args: str) -> list[str]:
    """`talks ARGS` run by this interpreter from this checkout."""
    return [sys.executable, "-c", "import sys; from sync.cli import cli; sys.exit(cli())", *args]


def stop_group(proc: subprocess.Popen) -> None:
    """SIGTERM to the process group, then SIGKILL if it has not ended within 10 s."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    with contextlib.suppress(ProcessLookupError):  # anything the server left in its group
        os.killpg(proc.pid, signal.SIGKILL)


def start_server(db_path: Path, port: int, log: Path, command: list[str] | None = None) -> subprocess.Popen:
    """`talks serve` in a new process group (so the group can be ended), output to `log`."""
    command = command or talks_command()
    with open(log, "wb") as out:
        return subprocess.Popen(
            [*command, "serve", "--db", str(db_path), "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
        )


@contextlib.contextmanager
def serving(db_path: Path, log: Path, timeout: float = 30.0, command: list[str] | None = None) -> Iterator[str]:
    """`talks serve --db db_path`; yields the base URL (http://127.0.0.1:PORT).

    The server's output goes to `log`, and is quoted if it fails to start.
    `command` replaces `talks` (e.g. another installation's entry point).
    """
    for attempt in range(3):  # a free port can be taken between picking and binding it
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        proc = start_server(db_path, port, log, command)
        try:
            _wait_until_serving(proc, url, log, timeout)
            break
        except RuntimeError:
            stop_group(proc)
            if attempt == 2 or "is in use" not in log.read_text(errors="replace"):
                raise
    try:
        yield url
    finally:
        stop_group(proc)
