"""A run loads only what it uses: no API client, HTTP library or yt-dlp for a sync from
the bundled snapshot or without YouTube (they cost most of the start-up time)."""
import json
import subprocess
import sys

HEAVY = ("googleapiclient.discovery", "httplib2", "yt_dlp", "httpx")

PROBE = """
import json, sys
from sync.cli import cli
cli.main(sys.argv[1:], standalone_mode=False)
print(json.dumps(sorted(m for m in {heavy!r} if m in sys.modules)))
"""


def loaded_after(*args: str) -> list[str]:
    done = subprocess.run([sys.executable, "-c", PROBE.format(heavy=HEAVY), *args],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_snapshot_sync_loads_no_network_library(tmp_path):
    assert loaded_after("sync", "--snapshot", "--db", str(tmp_path / "talks.db"), "-q") == []


def test_sync_without_youtube_loads_no_network_library(tmp_path):
    from tests.test_recordings import TALKS, WEBINAR

    args = ["sync", "--db", str(tmp_path / "talks.db"), "--source", "none", "--page", str(WEBINAR),
            "--talks-page", str(TALKS), "--today", "2026-08-11", "-q"]
    assert loaded_after(*args) == []


def test_the_api_path_still_loads_its_client():
    done = subprocess.run([sys.executable, "-c", "import sys, sync.youtube as y; y.build_client('k.ey');"
                           " print('googleapiclient.discovery' in sys.modules)"],
                          capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "True", done.stderr


def test_the_api_client_loaded_in_the_background_leaves_out_what_a_key_never_runs():
    """An API sync starts importing the client on a thread while the pages are read; that
    import, like build_client's, defers service-account crypto and auth-challenge parsing."""
    probe = ("import sys, threading, sync.youtube as y\n"
             "y.load_api_client_in_background()\n"
             "[t.join() for t in threading.enumerate() if t.name == 'import API client']\n"
             "loaded = 'googleapiclient.discovery' in sys.modules and 'sync.youtube._api' in sys.modules\n"
             "y.build_client('k.ey')\n"
             "finders = [type(f).__name__ for f in sys.meta_path]\n"
             "print(loaded, [m for m in ('cryptography', 'pyparsing', 'asyncio') if m in sys.modules], '_DeferredFinder' in finders)")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "True [] False", done.stderr


def test_the_talks_command_keeps_click_exit_codes():
    """`python -m sync` (and the console script) run sync.cli:main, which freezes what is
    alive before the process exits: exit codes and output are click's."""
    ok = subprocess.run([sys.executable, "-m", "sync", "--version"], capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0 and "talks, version" in ok.stdout
    usage = subprocess.run([sys.executable, "-m", "sync", "no-such-command"], capture_output=True, text=True, timeout=60)
    assert usage.returncode == 2 and "No such command" in usage.stderr
