#!/usr/bin/env bash
# Restore the kept database before the night's sync: the asset talks.db of the release.
#
#   contrib/github/restore-db.sh DB
#
# Every failure stops the job here, before the sync, so nothing is uploaded: the kept
# database stays as it is and the next run tries again. One case only is not a failure:
# the release does not exist yet. That is the first night, and the sync starts the archive.
set -euo pipefail
# shellcheck source=contrib/github/release.sh
. "$(dirname "$0")/release.sh"

db=${1:?usage: restore-db.sh DB}
[ ! -e "$db" ] || fail "restore: $db exists already; the kept database is restored into a fresh checkout only"

status=0
assets=$(list_assets) || status=$?
if [ "$status" -eq 3 ]; then
  echo "restore: the release \"$RELEASE\" does not exist yet: this is the first night, the sync starts a new archive"
  exit 0
fi
[ "$status" -eq 0 ] || fail "restore: cannot read the release \"$RELEASE\" (above); stopping before the sync, the kept database is untouched"

size=$(asset_size "$LATEST" <<<"$assets")
if [ -z "$size" ]; then
  fail "restore: the release \"$RELEASE\" has no $LATEST; roll back to a dated copy with contrib/github/roll-back-db.sh" \
    "(README, \"Running it unattended\"): $(dated_assets <<<"$assets" | head -n 3 | tr '\n' ' ')"
fi

mkdir -p "$(dirname "$db")"
stage=$(mktemp -d "$(dirname "$db")/.restore.XXXXXX")
trap 'rm -rf "$stage"' EXIT
download_asset "$LATEST" "$stage" "$size"
mv "$stage/$LATEST" "$db"
echo "restore: $db is the kept database ($size bytes)"
