#!/usr/bin/env bash
# Restore a backup made by backup.sh, then verify the audit chain.
# Usage: deploy/scripts/restore.sh /var/backups/afiya/afiya-<stamp>.dump|.db
set -euo pipefail
file=${1:?backup file}
set -a; [ -f /etc/afiya/afiya.env ] && . /etc/afiya/afiya.env; set +a
case "$file" in
  *.dump)
    pg_url=${AFIYA_DATABASE_URL/postgresql+asyncpg/postgresql}
    pg_restore --clean --if-exists --no-owner --dbname "$pg_url" "$file" ;;
  *.db)
    install -m 600 "$file" "${AFIYA_VAR_DIR:-var}/afiya.db" ;;
  *) echo "unknown backup type: $file" >&2; exit 2 ;;
esac
afiya migrate
afiya audit verify
