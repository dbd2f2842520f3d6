"""`talks serve` as an operator meets it: syncs under a live site, signals, ports, file names.

Every server here is a real `talks serve` process in its own process group
(tests/datasette_process.py), on a free loopback port, ended with its group.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import SNAPSHOT, TODAY
from tests.datasette_process import ROOT, free_port, serving, start_server, stop_group, talks_command

_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))
TITLE = "Challenges with equipoise and fairness in AI/ML datasets in dermatology"
SYNCS = 5
VISIBLE_WITHIN = 15.0  # seconds: generous on a busy machine; typically well under one
# Run by the fresh venv's Python: imports every module of the installed packages (but the
# CLI's __main__) and prints how many.
IMPORT_EVERY_MODULE = """
import importlib, pkgutil, db, sync
names = [m.name for package in (sync, db) for m in pkgutil.walk_packages(package.__path__, package.__name__ + ".")
         if not m.name.endswith("__main__")]
for name in names:
    importlib.import_module(name)
print(len(names))
"""


def get(url: str) -> tuple[int, bytes]:
    try:
        with _NO_PROXY.open(url, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def get_json(url: str):
    status, body = get(url)
    assert status == 200, (url, status, body[:300])
    return json.loads(body)


def run_talks(*args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(talks_command(*args), cwd=ROOT, capture_output=True, text=True, timeout=120, **kw)


def page_sync(db: Path, page: Path) -> subprocess.CompletedProcess:
    return run_talks("sync", "--db", str(db), "--source", "none", "--page", str(page),
                     "--talks-page", str(SNAPSHOT / "webinar_talks.md"), "--today", TODAY, "-q")


def wait_for(predicate, what: str, within: float = VISIBLE_WITHIN) -> float:
    """Poll until `predicate()` holds; the seconds it took. Fails after `within` seconds."""
    started = time.monotonic()
    while not predicate():
        if time.monotonic() - started > within:
            raise AssertionError(f"not seen within {within} s: {what}")
        time.sleep(0.02)
    return time.monotonic() - started


RUNS = "/talks.json?sql=select+count(*)+as+n+from+sync_runs&_shape=array"


class Reader(threading.Thread):
    """A reader that loops over searches and page loads and keeps every answer's status."""

    PATHS = [
        "/talks/talks?_search=fairness",
        "/talks/talks.json?_search=jimenez&_shape=array",
        "/talks/talks",
        "/talks",
        "/talks/sync_runs",
        "/talks/changes",
        "/talks/talks/1",
        "/talks/speakers",
        "/-/search?q=dermatology",
        RUNS,
    ]

    def __init__(self, base: str):
        super().__init__(daemon=True)
        self.base, self.stop, self.answers, self.runs_seen = base, threading.Event(), [], []

    def run(self):
        while not self.stop.is_set():
            for path in self.PATHS:
                try:
                    status, body = get(self.base + path)
                except Exception as exc:  # a refused or reset connection is a failure too
                    status, body = repr(exc), b""
                self.answers.append((path, status, body[:300] if status != 200 else b""))
                if path == RUNS and status == 200:
                    self.runs_seen.append(json.loads(body)[0]["n"])


def test_five_syncs_under_a_live_site_never_break_a_reader_and_show_up_without_a_restart(tmp_path):
    db = tmp_path / "talks.db"
    page = tmp_path / "webinar.md"
    original = (SNAPSHOT / "webinar.md").read_text()
    assert TITLE in original
    page.write_text(original)
    assert page_sync(db, page).returncode == 0

    with serving(db, tmp_path / "serve.log") as base:
        reader = Reader(base)
        reader.start()
        seen_after = []
        try:
            wait_for(lambda: len(reader.answers) >= len(Reader.PATHS), "the reader's first round")
            for n in range(1, SYNCS + 1):
                title = f"{TITLE} revision{n}"
                page.write_text(original.replace(TITLE, title))
                before = len(reader.answers)
                done = page_sync(db, page)
                assert done.returncode == 0, done.stderr
                # the sync has committed and exited: its run and its row must be served soon
                runs_url = f"{base}/talks.json?sql=select+count(*)+as+n+from+sync_runs&_shape=array"
                row_url = f"{base}/talks/talks.json?code=S01E01&_shape=array&_col=title"
                search_url = f"{base}/talks/talks.json?_search=revision{n}&_shape=array&_col=code"
                seen_after.append(wait_for(
                    lambda: get_json(runs_url) == [{"n": n + 1}]
                    and [r["title"] for r in get_json(row_url)] == [title]
                    and [r["code"] for r in get_json(search_url)] == ["S01E01"],
                    f"sync {n}'s run, title and search",
                ))
                assert len(reader.answers) > before, "the reader kept reading during the sync"
            # and the served sync_runs page lists them all, every one ok
            runs = get_json(f"{base}/talks/sync_runs.json?_shape=array&_col=status")
            assert [r["status"] for r in runs] == ["ok"] * (SYNCS + 1)
        finally:
            reader.stop.set()
            reader.join(timeout=60)

    failures = [a for a in reader.answers if a[1] != 200]
    assert failures == [], failures[:5]
    # committed states only, in order: the run count the reader saw never went back
    assert reader.runs_seen and reader.runs_seen == sorted(reader.runs_seen)
    assert set(reader.runs_seen) <= set(range(1, SYNCS + 2))
    assert len(reader.answers) >= 2 * len(Reader.PATHS)
    print(f"\n{len(reader.answers)} reads, all 200; new state served {max(seen_after):.2f} s after a sync at most")


def _port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@pytest.fixture(scope="module")
def served_db(tmp_path_factory) -> Path:
    db = tmp_path_factory.mktemp("served") / "talks.db"
    done = run_talks("sync", "--snapshot", "--db", str(db), "-q")
    assert done.returncode == 0, done.stderr
    return db


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_stops_talks_serve_whole_and_frees_its_port(served_db, tmp_path, sig):
    port = free_port()
    log = tmp_path / "serve.log"
    proc = start_server(served_db, port, log)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for(lambda: proc.poll() is not None or _answers(base), "talks serve answering", within=60)
        assert proc.poll() is None, log.read_text()
        os.kill(proc.pid, sig)  # the operator signals the one process they started
        proc.wait(timeout=30)
        # nothing else of it is left: its group is empty and the port binds at once (with
        # SO_REUSEADDR, as every server binds: closed connections linger in TIME_WAIT)
        with pytest.raises(ProcessLookupError):
            os.killpg(proc.pid, 0)
        assert _port_is_free(port)
        assert "Traceback" not in log.read_text()
        # and the next `talks serve` on the same port serves
        again = start_server(served_db, port, tmp_path / "again.log")
        try:
            wait_for(lambda: again.poll() is not None or _answers(base), "the next talks serve", within=60)
            assert again.poll() is None, (tmp_path / "again.log").read_text()
        finally:
            stop_group(again)
    finally:
        stop_group(proc)


def _answers(base: str) -> bool:
    try:
        return get(base + "/-/versions.json")[0] == 200
    except OSError:
        return False


def test_a_port_in_use_is_refused_with_one_sentence(served_db):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        done = run_talks("serve", "--db", str(served_db), "--port", str(port))
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1] == (
        f"Error: port {port} on 127.0.0.1 is in use (another `talks serve`?); stop it or pick another with --port")
    assert "Traceback" not in done.stderr


def test_any_file_name_is_served_as_the_database_talks_with_the_metadata(served_db, tmp_path):
    archive = tmp_path / "archive.db"
    archive.write_bytes(served_db.read_bytes())
    with serving(archive, tmp_path / "serve.log") as base:
        metadata = get_json(f"{base}/-/metadata.json")
        databases = get_json(f"{base}/-/databases.json")
        status, page = get(f"{base}/talks/talks")
    assert [d["name"] for d in databases] == ["talks"]
    assert metadata["title"] == "Datasets through the Looking-Glass: talk archive"
    assert status == 200 and metadata["databases"]["talks"]["tables"]["talks"]["description"][:20].encode() in page


def test_a_regular_install_serves_archive_db_with_the_metadata(served_db, tmp_path):
    """`pip install .` (not editable) into a fresh venv, the source copy deleted, then
    `talks serve --db archive.db`: metadata.yml, shipped as package data, applies, and the
    pages and feeds answer. Every module of the install imports, and pip finds every declared
    dependency: a dependency release that breaks at import fails here, on the Python that
    runs the suite (each CI leg runs it on its own Python, with what pip resolved there).

    Offline and quick: the fresh venv reaches this venv's packages (pip, setuptools,
    the dependencies) through a .pth file, and the build runs without isolation."""
    source, venv = tmp_path / "src", tmp_path / "venv"
    shutil.copytree(ROOT, source, symlinks=True, ignore=shutil.ignore_patterns(
        ".venv*", ".git", "build", "*.egg-info", "__pycache__", "*.db", "*.db-*", "*.lock", ".pytest_cache",
        ".hypothesis"))
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    [site_packages] = venv.glob("lib/python*/site-packages")
    (site_packages / "this-venv.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    installed = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--no-deps", "--no-build-isolation", "--no-index",
         "--quiet", str(source)],
        cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert installed.returncode == 0, installed.stderr
    shutil.rmtree(source)
    assert (site_packages / "sync" / "site" / "metadata.yml").read_text() == (ROOT / "metadata.yml").read_text()
    site = ROOT / "sync" / "site"
    shipped = sorted(str(p.relative_to(site)) for p in site.rglob("*") if p.is_file() and p.suffix != ".pyc"
                     and not p.name.startswith(".")
                     and "__pycache__" not in p.parts)
    assert all((site_packages / "sync" / "site" / name).is_file() for name in shipped), shipped
    where = subprocess.run([str(venv / "bin" / "python"), "-c", "import sync; print(sync.__file__)"],
                           cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert where.stdout.startswith(str(site_packages)), where
    imported = subprocess.run([str(venv / "bin" / "python"), "-c", IMPORT_EVERY_MODULE],
                              cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert imported.returncode == 0, imported.stderr
    assert int(imported.stdout) >= 40  # sync.*, sync.site.*, sync.youtube.*, db.*
    check = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "check"],
                           cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert check.returncode == 0, check.stdout + check.stderr

    archive = tmp_path / "archive.db"
    archive.write_bytes(served_db.read_bytes())
    with serving(archive, tmp_path / "serve.log", command=[str(venv / "bin" / "talks")]) as base:
        metadata = get_json(f"{base}/-/metadata.json")
        status, home = get(f"{base}/")
        static = [get(f"{base}/static/{p.name}")[0] for p in (ROOT / "sync" / "site" / "static").glob("*.*")
                  if not p.name.startswith(".")]
        pages = {path: get(base + path)[0] for path in ["/talk/S07E01", "/search?q=fairness", "/desk"]}
        with _NO_PROXY.open(f"{base}/talks/new_recordings.atom", timeout=30) as atom:
            atom_type, atom_body = atom.headers["content-type"], atom.read()
        with _NO_PROXY.open(f"{base}/talks/upcoming_talks.ics", timeout=30) as ics:
            ics_type, ics_body = ics.headers["content-type"], ics.read()
    assert set(pages.values()) == {200}, pages
    assert atom_type.startswith("application/atom+xml") and f"{base}/talk/S07E01".encode() in atom_body
    assert ics_type.startswith("text/calendar") and ics_body.startswith(b"BEGIN:VCALENDAR\r\n")
    assert static and set(static) == {200}  # the site's static files came with the install
    assert metadata["title"] == "Datasets through the Looking-Glass: talk archive"
    assert status == 200 and b"Datasets through the Looking-Glass: talk archive" in home
