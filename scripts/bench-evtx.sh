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

# best_of n command...: prints the best wall seconds and the peak RSS in
# KiB of n runs. The clock is read around fork and wait in one process: the
# date and /usr/bin/time processes this used to spawn around each run added
# several milliseconds, a fifth of triage's own time.
best_of() {
	python3 - "$@" <<'PY'
import os, subprocess, sys, time
n, cmd = int(sys.argv[1]), sys.argv[2:]
best, rss = None, 0
with open(os.devnull, "wb") as null:
    for _ in range(n):
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, stdout=null, stderr=null)
        _, _, usage = os.wait4(p.pid, 0)
        secs = time.perf_counter() - t0
        p.returncode = 0  # reaped by wait4
        best = secs if best is None else min(best, secs)
        rss = max(rss, usage.ru_maxrss)
print(f"{best:.6f} {rss}")
PY
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
