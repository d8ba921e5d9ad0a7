#!/usr/bin/env bash
# Compares triage dump evtx with the reference parsers on the same files in
# one run: wall time and peak RSS for each, via GNU time.
# Usage: scripts/bench-evtx.sh [FILE.evtx ...]   (default: the corpus's largest logs)
# NOPY=1 skips evtx_dump.py, which takes minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
corpus=../shared/corpus
if [ $# -eq 0 ]; then
	set -- "$corpus/evtx/powershell/Microsoft-Windows-Sysmon%4Operational.evtx" \
		"$corpus/evtx/powershell/Microsoft-Windows-PowerShell%4Operational.evtx" \
		"$corpus/kape/APTSIM-WIN10/C/Windows/System32/winevt/Logs/Security.evtx" \
		"$corpus/kape/APTSIM-WIN10/C/Windows/System32/winevt/Logs/System.evtx"
fi
bin=$(mktemp -d)/triage
go build -tags sqlite_fts5 -o "$bin" ./cmd/triage
bytes=$(du -cb "$@" | tail -1 | cut -f1)
measure() { # name, command...
	local name=$1; shift
	local tf
	tf=$(mktemp)
	/usr/bin/time -o "$tf" -f '%e %M' "$@" >/dev/null 2>&1 || true
	read -r secs rss < <(tail -1 "$tf")
	printf '| %-28s | %8.2f s | %8.1f MB/s | %7d MiB |\n' "$name" "$secs" "$(echo "$bytes / 1048576 / ($secs + 0.0001)" | bc -l)" $((rss / 1024))
}
echo "files: $# ($((bytes / 1048576)) MiB)"
echo '| parser | wall | throughput | peak RSS |'
echo '|---|---|---|---|'
measure "triage dump evtx" "$bin" dump evtx "$@"
measure "triage dump evtx (1 core)" env GOMAXPROCS=1 "$bin" dump evtx "$@"
measure "evtxexport (libevtx)" sh -c 'for f; do evtxexport "$f"; done' _ "$@"
if [ "${NOPY:-0}" != 1 ]; then
	measure "evtx_dump.py (python-evtx)" sh -c 'for f; do evtx_dump.py "$f"; done' _ "$@"
fi
