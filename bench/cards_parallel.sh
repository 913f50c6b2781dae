#!/bin/bash
# The sharded card merge measured (issue 21, point 1): the same batch file imported into fresh
# copies of one base database (CREATE DATABASE … TEMPLATE), once per "workers:shards" pair,
# each run with its own plain-COPY baseline (bench/cards_import.py --skip-base --workers).
#   bench/cards_parallel.sh BASE_DB ROWS WORKDIR 1:2 2:2 1:0
# BASE_DB: a database prepared by `cards_import.py --rows ROWS --base-only` (name ends in "bench").
# PREWARM=1: read the tables the import writes into shared_buffers first (cards_import.py --prewarm):
# each copy of the base is new to the buffer pool, unlike the tables of a server that serves them.
set -euo pipefail
base=$1 rows=$2 work=$3
shift 3
admin=${ADMIN_URL:-postgres://postgres@127.0.0.1:5432}
case $base in *bench) ;; *) echo "the base database must end in 'bench'" >&2; exit 2 ;; esac
run=${base%bench}run_bench
echo "start: $(uptime)"
for pair in "$@"; do
    workers=${pair%%:*} shards=${pair##*:}
    psql "$admin/postgres" -qc "DROP DATABASE IF EXISTS $run" -c "CREATE DATABASE $run TEMPLATE $base"
    echo "== workers $workers, shards $shards ($(date -u +%H:%M:%S), $(uptime | sed 's/.*load/load/'))"
    DATABASE_URL=$admin/$run DATABASE_OWNER_URL=$admin/$run \
        .venv/bin/python bench/cards_import.py --rows "$rows" --workdir "$work" --skip-base \
        --workers "$workers" --shards "$shards" ${PREWARM:+--prewarm} 2>&1 | grep -v "sskdt.W001\|HINT: Set DATABASE\|^System check\|^WARNINGS\|^$"
    psql "$admin/postgres" -qc "DROP DATABASE $run"
done
echo "end: $(uptime)"
