#!/usr/bin/env bash
# Lay out the folder `gcloud run deploy --source` builds the site's image from:
#
#   contrib/cloudrun/build-context.sh DB FOLDER
#
#   FOLDER/Dockerfile   contrib/cloudrun/Dockerfile
#   FOLDER/src/         what `pip install` needs of this checkout: pyproject.toml, README.md,
#                       metadata.yml and the packages sync/ and db/ (no databases, no caches;
#                       links copied as files, so nothing depends on how they are uploaded)
#   FOLDER/talks.db     a self-contained copy of DB (talks copy-db)
set -euo pipefail

db=${1:?usage: build-context.sh DB FOLDER}
folder=${2:?usage: build-context.sh DB FOLDER}
root=$(cd "$(dirname "$0")/../.." && pwd)
if [ -e "$folder" ] && [ -n "$(ls -A "$folder")" ]; then
  echo "build-context: $folder is not empty; the image is built from a new folder" >&2
  exit 1
fi

mkdir -p "$folder/src"
cp "$root/contrib/cloudrun/Dockerfile" "$folder/Dockerfile"
(cd "$root" && tar --dereference --exclude=__pycache__ --exclude='*.pyc' -cf - pyproject.toml README.md metadata.yml sync db/*.py) \
  | tar -xf - -C "$folder/src"
talks copy-db "$db" "$folder/talks.db"
echo "build-context: $folder holds the Dockerfile, the project and the database"
