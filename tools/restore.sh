#!/usr/bin/env bash
# Restore a backup made by tools/backup.sh into an EMPTY database and an empty photo folder.
#
#   tools/restore.sh BACKUP_FOLDER TARGET_DATABASE_URL TARGET_MEDIA_ROOT
#
# Checks the folder's SHA256SUMS first, refuses a database that already has tables or a
# photo folder that is not empty (restoring over live data is never what you want; create
# a new database and switch DATABASE_URL/MEDIA_ROOT to it), then restores both and prints
# the counts of cases, events and photos so they can be compared with the source.
# Afterwards run `manage.py migrate` (no-op when the code matches the backup) and
# `manage.py check_tree`. See docs/operations.md, "Backup and restore".
set -euo pipefail

if [ $# -ne 3 ]; then
    sed -n '2,11p' "$0" >&2
    exit 2
fi
backup="$1" target_db="$2" target_media="$3"

[ -f "$backup/SHA256SUMS" ] || { echo "restore: $backup is not a complete backup" >&2; exit 1; }
(cd "$backup" && sha256sum --quiet --check SHA256SUMS) \
    || { echo "restore: checksum mismatch in $backup" >&2; exit 1; }

tables="$(psql "$target_db" -XAtc \
    "SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog','information_schema')")"
if [ "$tables" != "0" ]; then
    echo "restore: the target database already has $tables tables; restore into an empty one" >&2
    exit 1
fi
mkdir -p "$target_media"
if [ -n "$(ls -A "$target_media")" ]; then
    echo "restore: $target_media is not empty" >&2
    exit 1
fi

pg_restore --no-owner --no-privileges --exit-on-error --single-transaction \
    --dbname="$target_db" "$backup/database.dump"
tar -C "$target_media" -xf "$backup/media.tar"

psql "$target_db" -XAtc "SELECT 'cases', count(*) FROM reports_report
    UNION ALL SELECT 'events', count(*) FROM reports_reportevent
    UNION ALL SELECT 'photos', count(*) FROM reports_reportphoto" | tr '|' ' '
echo "photo files $(find "$target_media" -type f | wc -l)"
