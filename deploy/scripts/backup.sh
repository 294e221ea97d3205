#!/usr/bin/env bash
# Nightly backup: PostgreSQL dump (or the SQLite file, copied safely) and the key ring.
# Usage: deploy/scripts/backup.sh /var/backups/afiya   (reads /etc/afiya/afiya.env)
set -euo pipefail
target=${1:?backup directory}
set -a; [ -f /etc/afiya/afiya.env ] && . /etc/afiya/afiya.env; set +a
stamp=$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$target"
if [ -n "${AFIYA_DATABASE_URL:-}" ]; then
  pg_url=${AFIYA_DATABASE_URL/postgresql+asyncpg/postgresql}
  pg_dump --format=custom --file "$target/afiya-$stamp.dump" "$pg_url"
else
  db="${AFIYA_VAR_DIR:-var}/afiya.db"
  sqlite3 "$db" ".backup '$target/afiya-$stamp.db'"
fi
# The key ring never lives in the database: back it up separately, encrypted at rest.
if [ -f "${AFIYA_VAR_DIR:-var}/keys/fields.json" ]; then
  install -m 600 "${AFIYA_VAR_DIR:-var}/keys/fields.json" "$target/keys-$stamp.json"
fi
find "$target" -name 'afiya-*' -mtime +30 -delete
echo "backup written to $target ($stamp)"
