package ingest

import (
	"math"
	"math/rand"
	"sort"
	"testing"
)

// TestRecordRunsAsSortedIDs checks the runs against counting the sorted
// ids, on logs in order, wrapped, with holes, duplicates and scattered ids.
func TestRecordRunsAsSortedIDs(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	cases := [][]int64{nil, {5}, {math.MaxInt64, math.MinInt64, 0}, {math.MaxInt64 - 1, math.MaxInt64, math.MaxInt64}}
	var wrapped []int64
	for i := int64(700); i < 1000; i++ {
		wrapped = append(wrapped, i)
	}
	for i := int64(1); i < 700; i += 1 + i%3 {
		wrapped = append(wrapped, i)
	}
	cases = append(cases, wrapped)
	for n := 0; n < 20; n++ {
		var ids []int64
		for i := 0; i < 1+rng.Intn(20000); i++ {
			ids = append(ids, int64(rng.Intn(1+rng.Intn(30000))))
		}
		cases = append(cases, ids)
	}
	for _, ids := range cases {
		var r recordRuns
		for _, id := range ids {
			r.add(id)
		}
		first, last, missing := r.gaps()
		wantFirst, wantLast, wantMissing := sortedGaps(ids)
		if (first == nil) != (wantFirst == nil) || first != nil && (*first != *wantFirst || *last != *wantLast) || missing != wantMissing {
			t.Errorf("%d ids: got %v %v %d, want %v %v %d", len(ids), first, last, missing, wantFirst, wantLast, wantMissing)
		}
	}
}

// sortedGaps is what the runs replace: the sorted ids, counted.
func sortedGaps(ids []int64) (first, last *int64, missing int64) {
	if len(ids) == 0 {
		return nil, nil, 0
	}
	ids = append([]int64(nil), ids...)
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	lo, hi := ids[0], ids[len(ids)-1]
	distinct := int64(1)
	for i := 1; i < len(ids); i++ {
		if ids[i] != ids[i-1] {
			distinct++
		}
	}
	return &lo, &hi, hi - lo + 1 - distinct
}
