# shellcheck shell=bash
# Sourced by restore-db.sh, keep-db.sh and roll-back-db.sh: where the kept database lives
# and how the release is read. The database is kept as assets of one GitHub release:
#   talks.db                        the latest night, restored by the next one
#   talks-YYYYMMDDTHHMMSSZ.db       a dated copy of each night (UTC), the newest $KEEP_NIGHTS kept
# shellcheck disable=SC2034  # used by the scripts that source this file
RELEASE=${RELEASE:-database}
LATEST=talks.db
DATED='^talks-[0-9]{8}T[0-9]{6}Z\.db$'

fail() {
  echo "$*" >&2
  exit 1
}

# Print "name<TAB>size" for each asset of the release. Returns 0, or 3 when the release
# does not exist (gh says exactly "release not found"), or 1 for any other failure
# (network, 5xx, rate limit, bad token: gh's message is passed on to stderr). Anything
# gh might say some day instead of "release not found" counts as a failure: the job
# then stops rather than start a new archive.
list_assets() {
  local err status=0
  err=$(mktemp)
  gh release view "$RELEASE" --json assets --jq '.assets[] | "\(.name)\t\(.size)"' 2>"$err" || status=$?
  if [ "$status" -ne 0 ] && grep -qxF 'release not found' "$err"; then
    status=3
  elif [ "$status" -ne 0 ]; then
    cat "$err" >&2
    status=1
  fi
  rm -f "$err"
  return "$status"
}

# The size of asset $1 in a listing on stdin (empty when it is not there).
asset_size() {
  awk -F '\t' -v name="$1" '$1 == name { print $2 }'
}

# The dated copies in a listing on stdin, newest first.
dated_assets() {
  cut -f 1 | grep -E "$DATED" | sort -r || true
}

# Download asset $1 into folder $2 and check it has the size $3 the release lists.
download_asset() {
  gh release download "$RELEASE" --pattern "$1" --dir "$2" \
    || fail "downloading $1 from the release \"$RELEASE\" failed (gh's message above)"
  local got
  got=$(wc -c <"$2/$1")
  [ "$got" -eq "$3" ] || fail "downloaded $got bytes of $1, but the release lists $3"
}
