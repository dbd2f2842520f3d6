"""A real `datasette serve -i` on a free loopback port, for the browser, key and bench runs."""
from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Iterator

from sync.site import datasette_options

METADATA = Path(__file__).resolve().parent.parent / "metadata.yml"

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


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


@contextlib.contextmanager
def serving(db_path: Path, log: Path, timeout: float = 30.0) -> Iterator[str]:
    """Serve `db_path` immutable with metadata.yml; yields the base URL (http://127.0.0.1:PORT).

    Datasette's output goes to `log`, and is quoted if it fails to start.
    """
    for attempt in range(3):  # a free port can be taken between picking and binding it
        url = f"http://127.0.0.1:{free_port()}"
        with open(log, "wb") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "datasette", "serve", "-i", str(db_path), "--metadata", str(METADATA),
                 "--host", "127.0.0.1", "--port", url.rsplit(":", 1)[1], *datasette_options()],
                cwd=Path(db_path).parent, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            )
        try:
            _wait_until_serving(proc, url, log, timeout)
            break
        except RuntimeError:
            _stop(proc)
            if attempt == 2 or "address already in use" not in log.read_text(errors="replace").lower():
                raise
    try:
        yield url
    finally:
        _stop(proc)
