#!/usr/bin/env bash
# Keep the night's database: check it against the kept one, then upload it.
#
#   contrib/github/keep-db.sh DB
#
# 1. A self-contained copy of DB is made (the WAL folded in: talks copy-db).
# 2. The kept talks.db is downloaded and the copy is compared with it
#    (talks check-continuity): a copy that lost any run, decision, change or talk
#    is refused, nothing is uploaded and the job fails.
# 3. The copy is uploaded as a new dated asset talks-YYYYMMDDTHHMMSSZ.db, then replaces
#    talks.db (gh deletes the old asset before uploading the new one, so the dated copy
#    goes first: whatever fails, tonight's file is on the release once).
# 4. Dated copies beyond the newest $KEEP_NIGHTS (default 7) are deleted.
# Without a release (the first night) the release is created with both assets at once.
#
# TALKS_NIGHT names the dated copy (default: now, UTC); tests set it.
set -euo pipefail
# shellcheck source=contrib/github/release.sh
. "$(dirname "$0")/release.sh"

db=${1:?usage: keep-db.sh DB}
night=${TALKS_NIGHT:-$(date -u +%Y%m%dT%H%M%SZ)}
keep=${KEEP_NIGHTS:-7}
[[ $keep =~ ^[1-9][0-9]{0,3}$ ]] || fail "keep: KEEP_NIGHTS must be a number of nights from 1 to 9999 (it is \"$keep\")"
dated="talks-$night.db"
[[ $dated =~ $DATED ]] || fail "keep: TALKS_NIGHT must look like 20261203T031712Z (it is \"$night\")"
[ -f "$db" ] || fail "keep: $db does not exist (the sync made none); nothing to keep"

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir "$stage/kept" "$stage/upload"
talks copy-db "$db" "$stage/upload/$LATEST"

status=0
assets=$(list_assets) || status=$?
case $status in
  0)
    size=$(asset_size "$LATEST" <<<"$assets")
    [ -n "$size" ] || fail "keep: the release \"$RELEASE\" has no $LATEST to compare with; nothing uploaded"
    download_asset "$LATEST" "$stage/kept" "$size"
    talks check-continuity "$stage/kept/$LATEST" "$stage/upload/$LATEST" \
      || fail "keep: refused: tonight's database lost what the kept one has (above); nothing uploaded"
    ;;
  3) echo "keep: the release \"$RELEASE\" does not exist yet: creating it with tonight's database" ;;
  *) fail "keep: cannot read the release \"$RELEASE\" (above); nothing uploaded" ;;
esac

ln "$stage/upload/$LATEST" "$stage/upload/$dated"
if [ "$status" -eq 3 ]; then
  gh release create "$RELEASE" "$stage/upload/$dated" "$stage/upload/$LATEST" --title "$RELEASE" \
    --notes "The archive's SQLite database, kept by the nightly workflow: $LATEST is the latest night, talks-<UTC time>.db the last nights. To roll back: contrib/github/roll-back-db.sh talks-<UTC time>.db (README, \"Running it unattended\")."
else
  gh release upload "$RELEASE" "$stage/upload/$dated"
  gh release upload "$RELEASE" "$stage/upload/$LATEST" --clobber
fi
echo "keep: $LATEST and $dated are tonight's database"

# Pruning is housekeeping: tonight's file is kept already, so a failure here only warns.
status=0
assets=$(list_assets) || status=$?
if [ "$status" -ne 0 ]; then
  echo "::warning::keep: could not list the release to delete old dated copies; the next night tries again"
  exit 0
fi
dated_assets <<<"$assets" | tail -n "+$((keep + 1))" | while read -r old; do
  gh release delete-asset "$RELEASE" "$old" --yes </dev/null \
    || echo "::warning::keep: could not delete the old dated copy $old; the next night tries again"
done
