// Command synthevtx writes an EVTX log of a given size for benchmarks:
//
//	go run ./internal/evtxwrite/synthevtx -mib 1100 /tmp/big.evtx
//
// The events are evtxwrite.Synthetic's: the same size gives the same bytes,
// record ids run from 1 without repeats, and memory stays at one chunk
// whatever the size.
package main

import (
	"flag"
	"fmt"
	"os"

	"triage/internal/evtxwrite"
)

func main() {
	mib := flag.Int64("mib", 64, "size of the log in MiB (rounded up to whole 64 KiB chunks)")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: synthevtx [-mib N] OUT.evtx")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 || *mib <= 0 || *mib > 4095 {
		flag.Usage()
		os.Exit(2)
	}
	f, err := os.Create(flag.Arg(0))
	if err != nil {
		fmt.Fprintf(os.Stderr, "synthevtx: %v\n", err)
		os.Exit(1)
	}
	n, err := evtxwrite.WriteSynthetic(f, *mib<<20)
	if err == nil {
		err = f.Close()
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "synthevtx: %v\n", err)
		os.Exit(1)
	}
	fmt.Printf("%s: %d events\n", flag.Arg(0), n)
}
