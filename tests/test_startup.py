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
