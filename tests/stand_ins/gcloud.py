"""A stand-in `gcloud` for the publish step: `run deploy --source FOLDER` keeps a copy of
the folder (the build context Cloud Build would receive) in $STAND_IN_STATE/deployed/.
Calls are recorded in calls.jsonl; the fault "gcloud run deploy" makes a deploy fail."""
from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

STATE = Path(os.environ["STAND_IN_STATE"])


def main(argv: list[str]) -> int:
    with open(STATE / "calls.jsonl", "a") as calls:
        calls.write(json.dumps({"tool": "gcloud", "argv": argv}) + "\n")
    if argv[:3] == ["config", "set", "project"] and len(argv) == 4:
        return 0
    if argv[:2] == ["run", "deploy"]:
        faults = STATE / "faults.json"
        if faults.exists() and json.loads(faults.read_text()).get("gcloud run deploy"):
            print("ERROR: (gcloud.run.deploy) Build failed; check build logs for details", file=sys.stderr)
            return 1
        source = Path(argv[argv.index("--source") + 1])
        deployed = STATE / "deployed"
        shutil.rmtree(deployed, ignore_errors=True)
        shutil.copytree(source, deployed, symlinks=True)
        return 0
    print(f"stand-in gcloud: unsupported call: gcloud {' '.join(argv)}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
