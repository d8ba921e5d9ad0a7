package evtx

import (
	"math/rand/v2"
	"testing"
)

// TestNextSignature checks the bytes.Index search against testing every
// slot of the lattice, on buffers with signatures planted at all alignments.
func TestNextSignature(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := 0; round < 200; round++ {
		buf := make([]byte, 64+rng.IntN(512))
		for i := 0; i < rng.IntN(12); i++ {
			copy(buf[rng.IntN(len(buf)-3):], recordMagic)
		}
		c := &chunk{buf: buf}
		for pos := 0; pos < len(buf); pos++ {
			want := -1
			for p := pos; p+minRecordSize <= len(buf); p += 8 {
				if string(buf[p:p+4]) == string(recordMagic) {
					want = p
					break
				}
			}
			if got := c.nextSignature(pos); got != want {
				t.Fatalf("round %d: nextSignature(%d) = %d, want %d", round, pos, got, want)
			}
		}
	}
}
