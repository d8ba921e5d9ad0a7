#!/usr/bin/env python3
"""Writes a large EVTX file by repeating the chunks of a real one.

Usage: scripts/synth-evtx.py SOURCE.evtx OUT.evtx SIZE_MIB

Used to check that `triage dump evtx` needs memory for the chunks in flight,
not for the file: measure its peak RSS on outputs of growing size, e.g.
  /usr/bin/time -f '%M KB' triage dump evtx OUT.evtx >/dev/null
The file header's chunk count and checksum are rewritten to match; chunks
are copied as they are, so record ids repeat from copy to copy.
"""
import struct
import sys
import zlib

HEADER, CHUNK = 4096, 65536


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__.strip().splitlines()[2])
    src, out, mib = sys.argv[1], sys.argv[2], int(sys.argv[3])
    with open(src, "rb") as f:
        header = bytearray(f.read(HEADER))
        chunks = []
        while True:
            c = f.read(CHUNK)
            if len(c) < CHUNK:
                break
            if c[:8] == b"ElfChnk\x00":
                chunks.append(c)
    if header[:8] != b"ElfFile\x00" or not chunks:
        sys.exit(f"{src}: no evtx chunks")
    n = max(1, (mib * 1024 * 1024 - HEADER + CHUNK - 1) // CHUNK)
    struct.pack_into("<QQ", header, 8, 0, n - 1)  # first and last chunk
    struct.pack_into("<H", header, 42, min(n, 0xFFFF))  # chunk count
    struct.pack_into("<I", header, 124, zlib.crc32(header[:120]))
    with open(out, "wb") as f:
        f.write(header)
        for i in range(n):
            f.write(chunks[i % len(chunks)])


if __name__ == "__main__":
    main()
