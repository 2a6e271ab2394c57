#!/usr/bin/env bash
# Drop what an earlier `make test` left on this machine's PostgreSQL and Redis, so that a run
# starts from nothing: the database make test names (TEST_DATABASE_URL, default .../leadpilot) and
# everything named after it (pytest-django's test_<name>*, including xdist's and the deploy
# tests'), every bench database (leadpilot_bench*: a bench must never reuse data built by older
# code), and the Redis databases of the test broker and the nightly bench. Recreates the empty
# database make test names. For CI (.ci/run); destructive on a developer's machine.
set -euo pipefail

url="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/leadpilot}"
server="${url%/*}"
name="${url##*/}"
bench="${BENCH_PREFIX:-leadpilot_bench}"
redis_dbs="${FRESH_REDIS_DBS:-0 6}"

psql_admin() { psql "$server/postgres" -v ON_ERROR_STOP=1 -qtA "$@"; }

stale=$(psql_admin -v name="$name" -v bench="$bench" <<'SQL'
SELECT datname FROM pg_database
WHERE datname = :'name'
   OR starts_with(datname, 'test_' || :'name')
   OR starts_with(datname, :'bench')
ORDER BY datname;
SQL
)
for db in $stale; do
  echo "fresh-state: dropping database $db"
  psql_admin -c "DROP DATABASE \"$db\" WITH (FORCE)"
done
psql_admin -c "CREATE DATABASE \"$name\""

for n in $redis_dbs; do
  redis-cli -h 127.0.0.1 -p 6379 -n "$n" flushdb >/dev/null
  echo "fresh-state: flushed Redis database $n"
done
