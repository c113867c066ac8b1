#!/usr/bin/env bash
# bench.sh: runs the benchmarks of docs/BENCHMARKS.md and prints each figure
# beside its baseline from the same run, as a ratio. Run through
# `make bench`, which also starts a throwaway PostgreSQL. Raw output is kept
# in benchresults/. BENCHTIME (default 3s) sets the append/read benchmarks'
# duration; the rebuild runs once per size (100k and 1M events, seeding the
# log first with a progress line); the KPI benchmark seeds 1M events of
# process traffic and measures the kpi rebuild, the KPI query's p99 and an
# as_of answer (ratios: baseline / figure for times).
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p benchresults
out="benchresults/bench-$(date -u +%Y%m%dT%H%M%SZ).txt"
benchtime="${BENCHTIME:-3s}"
{
	echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ) $(go version) $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)"
	echo "# cpu: $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)"
	echo "## sqlite"
	go test -run '^$' -bench 'AppendConcurrent32|AppendBatched100|ReadStream1000' -benchtime "$benchtime" ./sqlite/
	echo "## postgres"
	if [ -n "${HOUQIN_TEST_POSTGRES:-}" ]; then
		go test -run '^$' -bench . -benchtime "$benchtime" ./postgres/
	else
		echo "skipped: HOUQIN_TEST_POSTGRES not set (make bench starts a server)"
	fi
	echo "## rebuild"
	go test -run '^$' -bench Rebuild -benchtime 1x -timeout 60m ./projections/
	echo "## kpi"
	go test -run '^$' -bench KPI -benchtime 1x -timeout 60m ./projections/
} 2>&1 | tee "$out"

echo
echo "Summary (ratio = figure / baseline of the same run; for ms/read, baseline / figure):"
awk '
/^## / { section = $2 }
/^Benchmark/ {
	name = $1; sub(/-[0-9]+$/, "", name)
	for (i = 3; i < NF; i++) if ($(i+1) == "events/s" || $(i+1) == "ms/read" || $(i+1) == "p99-ms" || $(i+1) == "s/answer") { val = $i; unit = $(i+1) }
	heap = ""
	for (i = 3; i < NF; i++) if ($(i+1) == "peak-heap-MB") heap = sprintf(", peak heap %.1f MB", $i)
	group = name; sub(/\/(baseline=.*|houqin.*)$/, "", group)
	key = section ":" group
	if (name ~ /baseline=/) { base[key] = val; basename[key] = name; next }
	if (name ~ /ReadStream1000$/ && section == "postgres") { printf "  %-10s %-60s %10.2f %s\n", section, name, val, unit; next }
	if (key in base) {
		ratio = (unit == "events/s") ? val / base[key] : base[key] / val
		printf "  %-10s %-60s %10.2f %-9s (baseline %.2f; ratio %.2f%s)\n", section, name, val, unit, base[key], ratio, heap
	} else {
		pending[key] = pending[key] sprintf("%s|%s|%s|%s\n", name, val, unit, heap)
	}
}
END {
	for (key in pending) {
		n = split(pending[key], lines, "\n")
		for (j = 1; j < n; j++) {
			split(lines[j], f, "|")
			section = key; sub(/:.*/, "", section)
			ratio = (f[3] == "events/s") ? f[2] / base[key] : base[key] / f[2]
			printf "  %-10s %-60s %10.2f %-9s (baseline %.2f; ratio %.2f%s)\n", section, f[1], f[2], f[3], base[key], ratio, f[4]
		}
	}
}' "$out"
echo "raw output: $out"
