"""A stand-in `gh` for the nightly job's scripts: the release "database" is a folder.

Only the calls the scripts make are known; any other call fails loudly (exit 2), so a
script that starts using a new one fails its tests until this learns it. State lives in
$STAND_IN_STATE: release/ (exists if the release does; its files are the assets),
faults.json ({"gh release view": "502", ...}) and calls.jsonl (every call, in order).

Faults: 502, rate-limit, expired-token (the call fails with gh's message for them), and
for downloads `truncated` (fewer bytes arrive, exit 0) and `broken` (half the file is
written, then the call fails). An upload that fails with --clobber has deleted the old
asset first, as gh does.
"""
from __future__ import annotations

import fnmatch
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

STATE = Path(os.environ["STAND_IN_STATE"])
RELEASE = STATE / "release"
API = "https://api.github.com/repos/owner/talks"
MESSAGES = {
    "502": "HTTP 502: Bad Gateway ({url})",
    "rate-limit": "HTTP 403: API rate limit exceeded for installation ID 4242. ({url})",
    "expired-token": "HTTP 401: Bad credentials ({url})",
}


def record(argv: list[str]) -> None:
    with open(STATE / "calls.jsonl", "a") as calls:
        calls.write(json.dumps({"tool": "gh", "argv": argv}) + "\n")


def fault(call: str) -> str | None:
    faults = STATE / "faults.json"
    return json.loads(faults.read_text()).get(call) if faults.exists() else None


def die(message: str, code: int = 1):
    print(message, file=sys.stderr)
    sys.exit(code)


def fail_if_faulty(call: str, url: str) -> None:
    kind = fault(call)
    if kind in MESSAGES:
        die(MESSAGES[kind].format(url=url))


def options(args: list[str], flags: set[str], valued: set[str]) -> tuple[list[str], dict]:
    positional, found = [], {}
    it = iter(args)
    for arg in it:
        if arg in flags:
            found[arg] = True
        elif arg in valued:
            found[arg] = next(it)
        elif arg.startswith("-"):
            die(f"stand-in gh: unknown option {arg}", 2)
        else:
            positional.append(arg)
    return positional, found


def need_release(tag: str) -> None:
    if tag != "database":
        die(f"stand-in gh: the scripts keep the release 'database', not {tag!r}", 2)
    if not RELEASE.is_dir():
        die("release not found")


def view(args):
    [tag], opts = options(args, set(), {"--json", "--jq"})
    fail_if_faulty("gh release view", f"{API}/releases/tags/{tag}")
    need_release(tag)
    if opts.get("--json") != "assets":
        die("stand-in gh: release view knows --json assets only", 2)
    data = {"assets": [{"name": p.name, "size": p.stat().st_size, "state": "uploaded", "label": "",
                        "contentType": "application/octet-stream"} for p in sorted(RELEASE.iterdir())]}
    if "--jq" not in opts:
        print(json.dumps(data))
        return
    if not shutil.which("jq"):
        die("stand-in gh: --jq needs the jq command (apt-get install jq)", 2)
    done = subprocess.run(["jq", "-r", opts["--jq"]], input=json.dumps(data), capture_output=True, text=True)
    if done.returncode:
        die(f"stand-in gh: jq failed: {done.stderr}", 2)
    sys.stdout.write(done.stdout)


def download(args):
    [tag], opts = options(args, set(), {"--pattern", "--dir"})
    fail_if_faulty("gh release download", f"{API}/releases/tags/{tag}")
    need_release(tag)
    names = [p.name for p in sorted(RELEASE.iterdir()) if fnmatch.fnmatchcase(p.name, opts["--pattern"])]
    if not names:
        die("no assets match the file pattern")
    folder = Path(opts.get("--dir", "."))
    for name in names:
        target = folder / name
        if target.exists():
            die(f"{target} already exists (use `--clobber` to overwrite file or `--skip-existing` to skip file)")
        data = (RELEASE / name).read_bytes()
        kind = fault("gh release download")
        if kind in ("truncated", "broken"):
            target.write_bytes(data[: len(data) // 2])
            if kind == "broken":
                die("HTTP 502: Bad Gateway (https://objects.githubusercontent.com/github-production-release-asset)")
            continue
        target.write_bytes(data)


def upload(args):
    [tag, *files], opts = options(args, {"--clobber"}, set())
    need_release(tag)
    for file in map(Path, files):
        existing = RELEASE / file.name
        if existing.exists() and not opts.get("--clobber"):
            die(f"asset under the same name already exists: [{file.name}]")
        if existing.exists():
            existing.unlink()  # gh deletes the old asset, then uploads the new one
        fail_if_faulty("gh release upload --clobber" if opts.get("--clobber") else "gh release upload",
                       f"https://uploads.github.com/repos/owner/talks/releases/1/assets?name={file.name}")
        shutil.copyfile(file, existing)


def create(args):
    [tag, *files], opts = options(args, set(), {"--title", "--notes"})
    fail_if_faulty("gh release create", f"{API}/releases")
    if RELEASE.is_dir():
        die("HTTP 422: Validation Failed (https://api.github.com/repos/owner/talks/releases)\n"
            "Release.tag_name already exists")
    building = STATE / "release.draft"  # gh creates a draft, uploads, then publishes
    building.mkdir()
    for file in map(Path, files):
        shutil.copyfile(file, building / file.name)
    building.rename(RELEASE)


def delete_asset(args):
    [tag, name], opts = options(args, {"--yes", "-y"}, set())
    fail_if_faulty("gh release delete-asset", f"{API}/releases/assets/1")
    need_release(tag)
    if not (RELEASE / name).exists():
        die(f"asset {name} not found in release {tag}")
    (RELEASE / name).unlink()


COMMANDS = {"view": view, "download": download, "upload": upload, "create": create, "delete-asset": delete_asset}

if __name__ == "__main__":
    argv = sys.argv[1:]
    record(argv)
    if len(argv) < 2 or argv[0] != "release" or argv[1] not in COMMANDS:
        die(f"stand-in gh: unsupported call: gh {' '.join(argv)}", 2)
    COMMANDS[argv[1]](argv[2:])
