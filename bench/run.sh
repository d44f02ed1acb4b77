#!/usr/bin/env bash
# Import benchmarks at 100,000 persons; see bench/README.md.
#
#   bench/run.sh            go test benchmarks, 3 runs each (each import in a child process)
#   bench/run.sh profile    one run of each import with CPU profiles, and their top costs
#   bench/run.sh compare REV   the importbench of REV and of the working tree, alternating,
#                              ROUNDS (3) rounds of first load + re-import on both stores;
#                              then the plan and SCIM (FilteredGet, Post, Patch) benchmarks
#                              of both, alternating, ROUNDS rounds
#   bench/run.sh reviews    starting a 2-million-item access review, and reviewers' pages, on both stores
#   bench/run.sh reads      the workspace's pages and the API's reads at 100,000 persons (SQLite), 50
#                           sessions in a closed loop (saturation) and pausing about a second (people)
#   bench/run.sh revocations   10,000 review revocations decided, removed from slapd and verified, on both stores
#   bench/run.sh scim       the SCIM service provider with 100,000 users, and against the
#                           independent SCIM server (scimmy) in the same run (internal/scim)
#
# PostgreSQL: $TANGO_TEST_POSTGRES (default postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable);
# every run gets a fresh database.
set -euo pipefail
cd "$(dirname "$0")"
export TANGO_TEST_POSTGRES=${TANGO_TEST_POSTGRES:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}
N=${N:-100000}
COUNT=${COUNT:-3}

echo "# $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(go version)"

if [[ "${1:-}" == reviews ]]; then
	# a manager campaign over 100,000 persons x 20 grants, on both stores
	exec go test -run '^$' -bench '^BenchmarkReviews100k$' -benchtime 1x -count "$COUNT" -timeout 60m .
fi

if [[ "${1:-}" == reads ]]; then
	exec go test -run '^$' -bench '^Benchmark(APIReads100k|Pages100k)(Sessions)?$' -benchtime 1x -count 1 -timeout 60m .
fi

if [[ "${1:-}" == revocations ]]; then
	# reviewers revoke 10,000 members of an LDAP group; until the campaign is complete
	exec go test -run '^$' -bench '^BenchmarkReviewRevocations10k$' -benchtime 1x -count "$COUNT" -timeout 60m .
fi

if [[ "${1:-}" == scim ]]; then
	cd ..
	go test -run '^$' -bench '^Benchmark(FilteredGet|ListPage|Post|Patch)$' -benchtime 2000x -timeout 30m ./internal/scim/
	# its list pages are left out: one takes about 40 s with 100,000 users
	TANGO_BENCH_SCIMMY_OPS=${TANGO_BENCH_SCIMMY_OPS:-FilteredGet,Post,Patch} \
		exec go test -run '^$' -bench VsSCIMMY -benchtime 2000x -timeout 30m ./internal/scim/
fi

if [[ "${1:-}" != profile && "${1:-}" != compare ]]; then
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
base=${TANGO_TEST_POSTGRES%%\?*}                  # the DSN without its query,
dsn="${base%/*}/DBNAME${TANGO_TEST_POSTGRES#"$base"}" # with the database name a placeholder

if [[ "$1" == compare ]]; then
	rev=${2:?usage: bench/run.sh compare REV}
	git -C .. archive --format=tar --prefix=old/ "$rev" | tar -x -C "$dir"
	(cd "$dir/old" && go build -o "$dir/importbench-old" ./bench/cmd/importbench)
	brief() { tr ',' '\n' | awk -F: '/"seconds"/{s=$2} /"cpu_seconds"/{c=$2} /"peak_rss_mb"/{m=$2} END{printf "%.2f s, %.2f CPU-s, %.0f MB", s, c, m}'; }
	for round in $(seq 1 "${ROUNDS:-3}"); do
		for b in "$dir/importbench-old" "$ib"; do
			name=$([[ $b == "$ib" ]] && echo "working tree" || echo "$rev")
			rm -f "$dir"/cmp.db*
			db="tango_cmp_$$"
			psql -q "$TANGO_TEST_POSTGRES" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
			echo "round $round, $name:" \
				"sqlite first $("$b" -store sqlite -db "$dir/cmp.db" -file "$first" | brief);" \
				"re-import $("$b" -store sqlite -db "$dir/cmp.db" -file "$next" | brief);" \
				"postgres first $("$b" -store postgres -dsn "${dsn/DBNAME/$db}" -file "$first" | brief);" \
				"re-import $("$b" -store postgres -dsn "${dsn/DBNAME/$db}" -file "$next" | brief);" \
				"load $(cut -d' ' -f1 /proc/loadavg)"
		done
	done
	# The plan and SCIM benchmarks of both trees, alternating too: each
	# tree's test binaries run from their own package folders.
	(cd "$dir/old" && go test -c -o "$dir/plan-old.test" ./bench/ && go test -c -o "$dir/scim-old.test" ./internal/scim/)
	(cd .. && go test -c -o "$dir/plan-new.test" ./bench/ && go test -c -o "$dir/scim-new.test" ./internal/scim/)
	for round in $(seq 1 "${ROUNDS:-3}"); do
		for side in old new; do
			name=$([[ $side == new ]] && echo "working tree" || echo "$rev")
			root=$([[ $side == new ]] && (cd .. && pwd) || echo "$dir/old")
			echo "round $round, $name (load $(cut -d' ' -f1 /proc/loadavg)):"
			(cd "$root/bench" && "$dir/plan-$side.test" -test.run '^$' -test.bench '^BenchmarkPlan100k$' -test.benchtime 1x -test.timeout 30m | grep '^Benchmark')
			(cd "$root/internal/scim" && "$dir/scim-$side.test" -test.run '^$' -test.bench '^Benchmark(FilteredGet|Post|Patch)$' -test.benchtime 2000x -test.timeout 30m | grep '^Benchmark')
		done
	done
	exit 0
fi

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
"$ib" -store postgres -dsn "${dsn/DBNAME/$db}" -file "$first" -cpuprofile "$dir/pg-first.prof"
top "$dir/pg-first.prof"
"$ib" -store postgres -dsn "${dsn/DBNAME/$db}" -file "$next" -cpuprofile "$dir/pg-next.prof"
top "$dir/pg-next.prof"
