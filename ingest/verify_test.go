package ingest

import (
	"context"
	"testing"
)

// TestRehasherHoldsEveryRoot: the rehasher waits for the index build, so
// every root written before it must fit in its queue, however many.
func TestRehasherHoldsEveryRoot(t *testing.T) {
	const roots = 3000
	r := startRehash(context.Background(), roots, nil)
	for range roots {
		r.add(&Host{})
	}
	if got := len(<-r.finish()); got != roots {
		t.Fatalf("%d hosts hashed again, want %d", got, roots)
	}
}

// TestRehasherStopped: a failed ingest stops the rehasher, which hashes
// nothing more and still answers.
func TestRehasherStopped(t *testing.T) {
	r := startRehash(context.Background(), 1, nil)
	r.add(&Host{})
	r.stop()
	if got := len(<-r.done); got != 1 {
		t.Fatalf("%d hosts, want 1", got)
	}
}
