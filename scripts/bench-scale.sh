#!/usr/bin/env bash
# How a full `triage run` scales with the evidence: for each N it runs
# triage on N copies of the corpus KAPE host, each under a folder of its
# own and each an evidence root of its own, and for "big" on one synthetic
# Security log written by synthevtx. It builds every case itself in a
# temporary folder and prints, per run, the events, wall and CPU (user +
# system) time, peak RSS and events per second, then the scaling curve:
# events/s against N, and as a share of N=1's rate.
#
# Usage: scripts/bench-scale.sh [N|big ...]   (default: 1 3 10 30 big)
#   RUNS=n       runs per case (default 1)
#   BIG_MIB=n    size of the synthetic log in MiB (default 1100)
#   TRIAGE=path  the binary to time (default: built from this tree), so
#                that an older build can be timed on the same cases
#   BENCH_DIR=d  where the cases go (default: a new temporary folder,
#                removed at the end); a big log already there is reused
set -euo pipefail
cd "$(dirname "$0")/.."
host=../shared/corpus/kape/APTSIM-WIN10
if [ ! -d "$host" ]; then
	echo "bench-scale: the corpus KAPE host is not at $host" >&2
	exit 1
fi
[ $# -gt 0 ] || set -- 1 3 10 30 big
runs=${RUNS:-1}
if [ -n "${BENCH_DIR:-}" ]; then
	work=$BENCH_DIR
	mkdir -p "$work"
else
	work=$(mktemp -d)
	trap 'rm -rf "$work"' EXIT
fi
bin=${TRIAGE:-}
if [ -z "$bin" ]; then
	bin=$work/triage
	go build -tags sqlite_fts5 -o "$bin" ./cmd/triage
fi

# fleet N: N copies of the host under host01..hostNN. Hard links where the
# file system allows them: the copies are read-only evidence either way.
fleet() {
	local dir=$work/fleet$1 i
	if [ ! -d "$dir" ]; then
		mkdir -p "$dir.tmp"
		for i in $(seq -w 1 "$1"); do
			cp -al "$host" "$dir.tmp/host$i" 2>/dev/null || cp -r "$host" "$dir.tmp/host$i"
		done
		mv "$dir.tmp" "$dir"
	fi
	ls -d "$dir"/host*
}

# measure OUT EVIDENCE...: runs triage once and prints wall seconds, CPU
# seconds, peak RSS in KiB and the events in the run's manifest. Exit
# status 3 (complete, not clean) counts as a run.
measure() {
	python3 - "$bin" "$@" <<'PY'
import json, os, subprocess, sys, time
bin, out, evidence = sys.argv[1], sys.argv[2], sys.argv[3:]
with open(os.devnull, "wb") as null:
    t0 = time.perf_counter()
    p = subprocess.Popen([bin, "run", "--out", out, *evidence], stdout=null, stderr=null)
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
code = os.waitstatus_to_exitcode(status)
if code not in (0, 3):
    sys.exit(f"bench-scale: triage run exited {code}; see {out}/run.log")
with open(os.path.join(out, "manifest.json")) as f:
    events = sum(a["records"] for a in json.load(f)["artifacts"])
print(f"{wall:.2f} {usage.ru_utime + usage.ru_stime:.2f} {usage.ru_maxrss} {events}")
PY
}

echo "triage: $bin; $(nproc) cores; load average $(cut -d' ' -f1-3 /proc/loadavg) at $(date -u +%FT%TZ)"
echo '| case | roots | events | wall | CPU | peak RSS | events/s | events/CPU-s |'
echo '|---|---|---|---|---|---|---|---|'
declare -A rate
for c in "$@"; do
	if [ "$c" = big ]; then
		log=$work/big-${BIG_MIB:-1100}.evtx
		[ -f "$log" ] || go run ./internal/evtxwrite/synthevtx -mib "${BIG_MIB:-1100}" "$log" >/dev/null
		evidence=("$log")
		name="synthetic log, $(($(stat -c %s "$log") / 1048576)) MiB"
	else
		mapfile -t evidence < <(fleet "$c")
		name="KAPE host × $c"
	fi
	for r in $(seq 1 "$runs"); do
		out=$work/out
		rm -rf "$out"
		read -r wall cpu rss events < <(measure "$out" "${evidence[@]}")
		rm -rf "$out"
		eps=$(python3 -c "print(round($events / $wall))")
		printf '| %s | %d | %d | %.2f s | %.2f s | %d MiB | %d | %d |\n' "$name" "${#evidence[@]}" "$events" "$wall" "$cpu" \
			$((rss / 1024)) "$eps" "$(python3 -c "print(round($events / $cpu))")"
		# The curve takes each case's best run.
		if [ -z "${rate[$c]:-}" ] || [ "$eps" -gt "${rate[$c]}" ]; then
			rate[$c]=$eps
		fi
	done
done

echo
echo 'scaling (best run per case): events/s, and as a share of N=1'"'"'s rate'
for c in "$@"; do
	[ "$c" = big ] && continue
	share=""
	if [ -n "${rate[1]:-}" ]; then
		share=$(python3 -c "print(f'{${rate[$c]} / ${rate[1]}:.2f}×')")
	fi
	printf 'N=%-3s %8d events/s %s\n' "$c" "${rate[$c]}" "$share"
done
