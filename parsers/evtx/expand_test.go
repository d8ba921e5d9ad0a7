package evtx

import (
	"strings"
	"testing"
)

// TestExpansionBounded feeds the expander templates that refer to one large
// value, or one large array, many times over, as a hostile file can. The
// record must stop at the byte or node bound with an error, and the pieces
// it keeps must refer to no more than the bound.
func TestExpansionBounded(t *testing.T) {
	big := value{typ: typeString, data: make([]byte, 60000)}
	array := value{typ: typeUint8 | typeArray, data: make([]byte, 60000)}
	for _, tc := range []struct {
		name string
		val  value
		want string
	}{
		{"one string in many elements", big, "bytes of values"},
		{"one array in many elements", array, "nodes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			elems := make([]node, 1000)
			for i := range elems {
				elems[i] = node{kind: nodeElement, name: "Data", children: []node{{kind: nodeSubst, index: 0}}}
			}
			e := new(expander)
			e.reset(newChunk(make([]byte, chunkSize), 0x1000))
			e.expand(elems, []value{tc.val})
			if e.err == nil || !strings.Contains(e.err.Error(), tc.want) {
				t.Fatalf("error %v, want one naming %s", e.err, tc.want)
			}
			nodes, bytes := 0, 0
			var walk func([]xnode)
			walk = func(xs []xnode) {
				for i := range xs {
					nodes++
					bytes += len(xs[i].val.data) + len(xs[i].text)
					walk(xs[i].kids)
				}
			}
			walk(e.stack)
			if nodes > 2*maxExpandedNodes || bytes > maxExpandedBytes {
				t.Errorf("kept %d nodes and %d bytes", nodes, bytes)
			}
		})
	}
}
