#!/usr/bin/env bash
# Back up the database and the photos into one dated folder.
#
#   DATABASE_URL=postgres://... MEDIA_ROOT=/srv/jinzhitong/media tools/backup.sh [DEST]
#
# DEST (default $BACKUP_DIR, else ./backups) gets <DEST>/<yyyymmdd-hhmmss>/ with
#   database.dump   pg_dump custom format (compressed; pg_restore can pick tables from it)
#   media.tar       the photo folder (photos are JPEG already: compressing gains nothing)
#   SHA256SUMS      checked by tools/restore.sh before it touches anything
# The folder is written as <name>.partial and renamed when complete, so a folder without
# .partial is a whole backup. The database is dumped first: every photo it references was
# on disk before the dump began, so the tar taken after it holds them all (photos filed
# meanwhile are extra files, removed after a restore by the orphan-photo sweep).
# BACKUP_KEEP=N (default 14) keeps the N newest complete backups in DEST and removes older
# ones. Prints the new folder's path. See docs/operations.md, "Backup and restore".
set -euo pipefail

: "${DATABASE_URL:?DATABASE_URL must name the PostgreSQL database to back up}"
here="$(cd "$(dirname "$0")/.." && pwd)"
media="${MEDIA_ROOT:-$here/media}"
dest="${1:-${BACKUP_DIR:-backups}}"
keep="${BACKUP_KEEP:-14}"
case "$DATABASE_URL" in
    postgres://*|postgresql://*) ;;
    *) echo "backup: DATABASE_URL is not PostgreSQL (SQLite: copy db.sqlite3 while stopped)" >&2; exit 2 ;;
esac
# libpq does not know the postgis://-style aliases dj-database-url accepts; both above work.

stamp="$(TZ=Asia/Shanghai date +%Y%m%d-%H%M%S)"
target="$dest/$stamp"
work="$target.partial"
mkdir -p "$work"
trap 'rm -rf "$work"' ERR

pg_dump --format=custom --compress=6 --no-owner --no-privileges \
    --file="$work/database.dump" "$DATABASE_URL"
if [ -d "$media" ]; then
    tar -C "$media" -cf "$work/media.tar" .
else
    tar -cf "$work/media.tar" --files-from /dev/null
fi
(cd "$work" && sha256sum database.dump media.tar > SHA256SUMS)
mv "$work" "$target"
trap - ERR

# Retention: the newest $keep complete backups stay.
if [ "$keep" -gt 0 ]; then
    ls -1d "$dest"/[0-9]*-[0-9]* 2>/dev/null | grep -v '\.partial$' | sort -r \
        | tail -n +"$((keep + 1))" | while read -r old; do rm -rf "$old"; done
fi
echo "$target"
