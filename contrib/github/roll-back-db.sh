#!/usr/bin/env bash
# Roll the kept database back to a dated copy, after a bad night:
#
#   contrib/github/roll-back-db.sh talks-20261201T031712Z.db
#
# The dated copy becomes talks.db, the file the next night restores and compares with.
# The dated copies stay as they are. Run it where `gh` may write to the repository (in a
# clone, or with GH_REPO=owner/name), and not while the workflow runs (`gh run list`).
set -euo pipefail
# shellcheck source=contrib/github/release.sh
. "$(dirname "$0")/release.sh"

name=${1:?usage: roll-back-db.sh talks-YYYYMMDDTHHMMSSZ.db (the dated copies: gh release view database)}
[[ $name =~ $DATED ]] || fail "roll-back: $name is not a dated copy (talks-YYYYMMDDTHHMMSSZ.db)"

assets=$(list_assets) || fail "roll-back: cannot read the release \"$RELEASE\" (above); nothing changed"
size=$(asset_size "$name" <<<"$assets")
[ -n "$size" ] || fail "roll-back: the release \"$RELEASE\" has no $name; its dated copies are:" \
  "$(dated_assets <<<"$assets" | tr '\n' ' ')"

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
download_asset "$name" "$stage" "$size"
mv "$stage/$name" "$stage/$LATEST"
gh release upload "$RELEASE" "$stage/$LATEST" --clobber
echo "roll-back: $LATEST is now $name ($size bytes); the next night starts from it"
