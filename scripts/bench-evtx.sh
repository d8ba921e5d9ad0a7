#!/usr/bin/env bash
# Compares triage dump evtx with the reference parsers on the same files in
# one run. Each command runs RUNS times (python-evtx once: it takes minutes);
# the table gives the best wall time, the peak RSS, and how many times
# faster triage is than each reference.
# Usage: scripts/bench-evtx.sh [FILE.evtx ...]   (default: the corpus's largest logs)
# NOPY=1 skips evtx_dump.py; RUNS=n sets the repetitions (default 10).
set -euo pipefail
cd "$(dirname "$0")/.."
corpus=../shared/corpus
if [ $# -eq 0 ]; then
	set -- "$corpus/evtx/powershell/Microsoft-Windows-Sysmon%4Operational.evtx" \
		"$corpus/evtx/powershell/Microsoft-Windows-PowerShell%4Operational.evtx" \
		"$corpus/kape/APTSIM-WIN10/C/Windows/System32/winevt/Logs/Security.evtx" \
		"$corpus/kape/APTSIM-WIN10/C/Windows/System32/winevt/Logs/System.evtx"
fi
runs=${RUNS:-10}
bin=$(mktemp -d)/triage
go build -tags sqlite_fts5 -o "$bin" ./cmd/triage
bytes=$(du -cb "$@" | tail -1 | cut -f1)

# best_of n command...: prints the best wall seconds (nanosecond clock) and
# the peak RSS in KiB of n runs.
best_of() {
	local n=$1; shift
	local best="" rss=0 tf
	tf=$(mktemp)
	for _ in $(seq "$n"); do
		local t0 t1 secs
		t0=$(date +%s%N)
		/usr/bin/time -o "$tf" -f '%M' "$@" >/dev/null 2>&1 || true
		t1=$(date +%s%N)
		secs=$(echo "($t1 - $t0) / 1000000000" | bc -l)
		if [ -z "$best" ] || [ "$(echo "$secs < $best" | bc -l)" = 1 ]; then best=$secs; fi
		rss=$(( $(tail -1 "$tf") > rss ? $(tail -1 "$tf") : rss ))
	done
	echo "$best $rss"
}

echo "files: $# ($((bytes / 1048576)) MiB), best of $runs runs (python-evtx: 1)"
echo '| parser | best wall | throughput | peak RSS | triage is faster by |'
echo '|---|---|---|---|---|'
read -r ours ours_rss < <(best_of "$runs" "$bin" dump evtx "$@")
row() { # name, seconds, rss KiB
	printf '| %-28s | %8.3f s | %8.1f MB/s | %5d MiB | %7.1f× |\n' "$1" "$2" \
		"$(echo "$bytes / 1048576 / $2" | bc -l)" $(($3 / 1024)) "$(echo "$2 / $ours" | bc -l)"
}
row "triage dump evtx" "$ours" "$ours_rss"
read -r s r < <(best_of "$runs" env GOMAXPROCS=1 "$bin" dump evtx "$@")
row "triage dump evtx (1 core)" "$s" "$r"
read -r s r < <(best_of "$runs" sh -c 'for f; do evtxexport "$f"; done' _ "$@")
row "evtxexport (libevtx)" "$s" "$r"
if [ "${NOPY:-0}" != 1 ]; then
	read -r s r < <(best_of 1 sh -c 'for f; do evtx_dump.py "$f"; done' _ "$@")
	row "evtx_dump.py (python-evtx)" "$s" "$r"
fi
