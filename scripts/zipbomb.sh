#!/usr/bin/env bash
# Runs triage on zip bombs and prints peak RSS, wall time and what the run
# reported about the entries. Each bomb holds 4 entries of 512 MiB of zeros,
# deflated (about 0.5 MiB each), named as event logs so that they are taken
# as artifacts:
#   honest: the central directory declares 512 MiB per entry (the ratio
#           bound refuses them before anything is inflated);
#   lying:  it declares 1 MiB per entry (read up to 1 MiB, then reported as
#           holding more than declared).
# Usage: scripts/zipbomb.sh   (needs python3 and /usr/bin/time)
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go build -tags sqlite_fts5 -o "$work/triage" ./cmd/triage

python3 - "$work" <<'PY'
import struct, sys, zlib
work = sys.argv[1]
MiB = 1 << 20
size, entries = 512 * MiB, 4
comp, crc = zlib.compressobj(9, zlib.DEFLATED, -15), 0
block, data = bytes(MiB), []
for _ in range(size // MiB):
    data.append(comp.compress(block))
    crc = zlib.crc32(block, crc)
data.append(comp.flush())
packed = b"".join(data)
for mode, declared in (("honest", size), ("lying", MiB)):
    out, central, off = open(f"{work}/{mode}.zip", "wb"), b"", 0
    for i in range(entries):
        name = f"C/Windows/System32/winevt/Logs/bomb{i}.evtx".encode()
        fields = struct.pack("<HHHHHIIIHH", 20, 0, 8, 0, 0x21, crc, len(packed), declared, len(name), 0)
        local = b"PK\x03\x04" + fields + name
        out.write(local + packed)
        central += b"PK\x01\x02" + struct.pack("<H", 20) + fields + struct.pack("<HHHII", 0, 0, 0, 0, off) + name
        off += len(local) + len(packed)
    out.write(central)
    out.write(b"PK\x05\x06" + struct.pack("<HHHHIIH", 0, 0, entries, entries, len(central), off, 0))
    out.close()
PY

for mode in honest lying; do
	out="$work/out-$mode"
	/usr/bin/time -f '%M %e' -o "$work/time" "$work/triage" run --out "$out" "$work/$mode.zip" >/dev/null 2>"$work/stderr" && status=0 || status=$?
	read -r rss secs < <(tail -1 "$work/time")
	echo "$mode: $(du -h "$work/$mode.zip" | cut -f1) zip, exit $status, peak RSS $((rss / 1024)) MiB, $secs s, load $(cut -d' ' -f1-3 /proc/loadavg)"
	grep -hE 'expansion|declared|bomb' "$out/run.log" | sed 's/^[^ ]* /  /' | head -8
done
