#!/usr/bin/env bash
# Import benchmarks at 100,000 persons; see bench/README.md.
#
#   bench/run.sh            go test benchmarks, 3 runs each (each import in a child process)
#   bench/run.sh profile    one run of each import with CPU profiles, and their top costs
#
# PostgreSQL: $TANGO_TEST_POSTGRES (default postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable);
# every run gets a fresh database.
set -euo pipefail
cd "$(dirname "$0")"
export TANGO_TEST_POSTGRES=${TANGO_TEST_POSTGRES:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}
N=${N:-100000}
COUNT=${COUNT:-3}

echo "# $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(go version)"

if [[ "${1:-}" != profile ]]; then
	exec go test -run '^$' -bench . -benchtime 1x -count "$COUNT" -timeout 60m .
fi

dir=$(mktemp -d)
db=""
cleanup() {
	if [[ -n "$db" ]]; then psql -q "$TANGO_TEST_POSTGRES" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" || true; fi
	rm -rf "$dir"
}
trap cleanup EXIT
go build -o "$dir/importbench" ./cmd/importbench
ib="$dir/importbench"
"$ib" -gen "$N" -out "$dir"
first="$dir/org-$N-m0.csv"
next="$dir/org-$N-m1.csv"

top() { go tool pprof -top -nodecount=35 "$ib" "$1" 2>/dev/null | sed -n '1,45p'; }

echo "## parse floor"
"$ib" -mode parse -file "$first" -cpuprofile "$dir/parse.prof"
top "$dir/parse.prof"

echo "## sqlite"
"$ib" -store sqlite -db "$dir/tango.db" -file "$first" -cpuprofile "$dir/sqlite-first.prof"
top "$dir/sqlite-first.prof"
"$ib" -store sqlite -db "$dir/tango.db" -file "$next" -cpuprofile "$dir/sqlite-next.prof"
top "$dir/sqlite-next.prof"

echo "## postgres"
db="tango_bench_$$"
psql -q "$TANGO_TEST_POSTGRES" -c "CREATE DATABASE $db"
base=${TANGO_TEST_POSTGRES%%\?*}                  # the DSN without its query,
dsn="${base%/*}/$db${TANGO_TEST_POSTGRES#"$base"}" # with the database name replaced
"$ib" -store postgres -dsn "$dsn" -file "$first" -cpuprofile "$dir/pg-first.prof"
top "$dir/pg-first.prof"
"$ib" -store postgres -dsn "$dsn" -file "$next" -cpuprofile "$dir/pg-next.prof"
top "$dir/pg-next.prof"
