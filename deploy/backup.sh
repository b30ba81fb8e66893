#!/usr/bin/env bash
# PostgreSQL backups that restore: continuous WAL archiving plus base backups, with PostgreSQL's own
# tools (pg_basebackup, restore_command, recovery_target_time). The server needs nothing of this: it
# is the database's. The formation tests restore to a point in time with it.
#
#   deploy/backup.sh settings ARCHIVE        the postgresql.conf lines that archive every WAL segment
#                                            into ARCHIVE/wal (archive_mode needs a restart)
#   deploy/backup.sh base URL ARCHIVE        a base backup of the server at URL into ARCHIVE/base-<time>
#                                            (plain format, WAL included); prints its folder
#   deploy/backup.sh restore ARCHIVE TIME DATA
#                                            a new data folder DATA from the newest base backup taken
#                                            before TIME, replaying archived WAL up to TIME (RFC 3339 or
#                                            any PostgreSQL timestamp), then taking writes. Start it with
#                                            pg_ctl -D DATA start (as the postgres user).
#
# ARCHIVE is a path without quote characters. In production it is storage off the database hosts (a mounted volume, or an archive_command
# that copies to object storage); take a base backup daily and keep the WAL since the oldest kept.
set -euo pipefail

PGBIN="${PGBIN:-/usr/lib/postgresql/15/bin}"

die() { echo "backup: $*" >&2; exit 1; }

as_postgres() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

settings() {
    local archive=$1
    mkdir -p "$archive/wal"
    [ "$(id -u)" != 0 ] || chown -R postgres: "$archive"
    cat <<EOF
wal_level = replica
archive_mode = on
archive_command = 'test ! -f "$archive/wal/%f" && cp %p "$archive/wal/%f.part" && sync "$archive/wal/%f.part" && mv "$archive/wal/%f.part" "$archive/wal/%f"'
archive_timeout = 60
EOF
}

base() {
    local url=$1 archive=$2 dir
    dir="$archive/base-$(date -u +%Y%m%dT%H%M%SZ)"
    mkdir -p "$archive"
    [ "$(id -u)" != 0 ] || chown postgres: "$archive"
    as_postgres "$PGBIN/pg_basebackup" -d "$url" -D "$dir" --checkpoint=fast --wal-method=stream \
        --no-password >/dev/null
    date -u +%Y-%m-%dT%H:%M:%SZ >"$dir/.taken_at"
    echo "$dir"
}

restore() {
    local archive=$1 target=$2 data=$3 chosen="" dir
    [ ! -e "$data" ] || die "$data exists already"
    # The newest base backup taken before the target time.
    # (A folder without .taken_at is a base backup that never finished: skipped.)
    for dir in "$archive"/base-*; do
        [ -f "$dir/.taken_at" ] || continue
        if [ "$(date -u -d "$(cat "$dir/.taken_at")" +%s)" -le "$(date -u -d "$target" +%s)" ]; then
            chosen=$dir
        fi
    done
    [ -n "$chosen" ] || die "no base backup in $archive was taken before $target"
    # As PostgreSQL reads a recovery target: a plain timestamp with its offset.
    target=$(date -u -d "$target" '+%Y-%m-%d %H:%M:%S.%N+00')
    cp -a "$chosen" "$data"
    rm -f "$data/.taken_at" "$data/postmaster.pid" "$data/standby.signal"
    cat >>"$data/postgresql.auto.conf" <<EOF
restore_command = 'cp "$archive/wal/%f" %p'
recovery_target_time = '$target'
recovery_target_action = 'promote'
archive_mode = off
EOF
    touch "$data/recovery.signal"
    [ "$(id -u)" != 0 ] || chown -R postgres: "$data"
    chmod 700 "$data"
    echo "$data"
}

case "${1:-}" in
    settings) settings "${2:?ARCHIVE}" ;;
    base) base "${2:?URL}" "${3:?ARCHIVE}" ;;
    restore) restore "${2:?ARCHIVE}" "${3:?TIME}" "${4:?DATA}" ;;
    *)
        sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'
        exit 2
        ;;
esac
