#!/bin/sh
# Throwaway PostgreSQL 15 cluster configured as a national server scaled to this machine
# (24 GB RAM, 2 cores): large buffer pool, large WAL between checkpoints, WAL compression.
# Durability unchanged (fsync, full_page_writes, synchronous_commit on by default).
#   bench/pg_tuned.sh start [DIR] [PORT]   # initdb if needed, start (as the postgres user)
#   bench/pg_tuned.sh stop  [DIR] [PORT]
# Then: DATABASE_URL=postgres://postgres@127.0.0.1:PORT/DBNAME ...
set -eu
CMD=${1:-start}
DIR=$(realpath -m "${2:-var/pgtuned}")
PORT=${3:-55446}
BIN=/usr/lib/postgresql/15/bin
as_pg() { if [ "$(id -un)" = postgres ]; then sh -c "$1"; else su postgres -s /bin/sh -c "$1"; fi; }
case "$CMD" in
start)
    if [ ! -f "$DIR/PG_VERSION" ]; then
        mkdir -p "$DIR" && chown postgres "$DIR" && chmod 700 "$DIR"
        as_pg "$BIN/initdb -D '$DIR' -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null"
        cat >> "$DIR/postgresql.conf" <<CONF
# --- national server scaled to this machine (bench/pg_tuned.sh) ---
listen_addresses = '127.0.0.1'
port = $PORT
unix_socket_directories = '$DIR'
max_connections = 100
shared_buffers = 6GB
huge_pages = try
effective_cache_size = 16GB
work_mem = 64MB
maintenance_work_mem = 1GB
max_wal_size = 16GB
min_wal_size = 2GB
checkpoint_timeout = 30min
checkpoint_completion_target = 0.9
wal_compression = on
wal_buffers = 64MB
wal_writer_delay = 200ms
bgwriter_lru_maxpages = 1000
random_page_cost = 1.1
effective_io_concurrency = 200
max_worker_processes = 4
max_parallel_workers = 2
max_parallel_workers_per_gather = 1
max_parallel_maintenance_workers = 2
autovacuum_vacuum_cost_limit = 2000
fsync = on
full_page_writes = on
synchronous_commit = on
CONF
    fi
    as_pg "$BIN/pg_ctl -D '$DIR' -l '$DIR/server.log' -w start >/dev/null"
    echo "started: postgres://postgres@127.0.0.1:$PORT/ (data $DIR)"
    ;;
stop)
    as_pg "$BIN/pg_ctl -D '$DIR' -m fast -w stop"
    ;;
*) echo "usage: $0 start|stop [DIR] [PORT]" >&2; exit 2 ;;
esac
