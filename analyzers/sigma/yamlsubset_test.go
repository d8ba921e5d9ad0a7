package sigma

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	yaml "go.yaml.in/yaml/v3"
)

// fullDecode is yaml.v3's reading of a one-document file, nil when it has
// not exactly one document or does not parse.
func fullDecode(data []byte) *yaml.Node {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		return nil
	}
	var more yaml.Node
	if err := dec.Decode(&more); !errors.Is(err, io.EOF) {
		return nil
	}
	return &doc
}

// sameNodes reports where two node trees differ in what the compiler
// reads, or "" when they do not.
func sameNodes(a, b *yaml.Node, where string) string {
	if a == nil || b == nil {
		if a != b {
			return where + ": one is nil"
		}
		return ""
	}
	isNull := func(n *yaml.Node) bool { return n.Tag == "!!null" }
	switch {
	case a.Kind != b.Kind:
		return fmt.Sprintf("%s: kind %v != %v", where, a.Kind, b.Kind)
	case a.Style != b.Style:
		return fmt.Sprintf("%s: style %v != %v", where, a.Style, b.Style)
	case a.Kind == yaml.ScalarNode && isNull(a) != isNull(b):
		return fmt.Sprintf("%s: tag %s != %s", where, a.Tag, b.Tag)
	case a.Value != b.Value:
		return fmt.Sprintf("%s: value %q != %q", where, a.Value, b.Value)
	case a.Line != b.Line || a.Column != b.Column:
		return fmt.Sprintf("%s (%q): at %d:%d != %d:%d", where, a.Value, a.Line, a.Column, b.Line, b.Column)
	case a.Anchor != "" || b.Anchor != "" || a.Alias != nil || b.Alias != nil:
		return where + ": anchor or alias"
	case len(a.Content) != len(b.Content):
		return fmt.Sprintf("%s: %d children != %d", where, len(a.Content), len(b.Content))
	}
	for i := range a.Content {
		if d := sameNodes(a.Content[i], b.Content[i], fmt.Sprintf("%s/%d", where, i)); d != "" {
			return d
		}
	}
	return ""
}

// checkSubset fails when the subset decoder reads data otherwise than
// yaml.v3; declining it is always allowed.
func checkSubset(t *testing.T, name string, data []byte) bool {
	t.Helper()
	got, ok := decodeSubset(data)
	if !ok {
		return false
	}
	want := fullDecode(data)
	if want == nil {
		t.Fatalf("%s: the subset decoder read what yaml.v3 refuses:\n%s", name, data)
	}
	if d := sameNodes(got, want, "doc"); d != "" {
		t.Fatalf("%s: subset decoder differs from yaml.v3: %s\n%s", name, d, data)
	}
	return true
}

// TestYAMLSubsetOnRules reads every shared Windows rule with both
// decoders: the nodes must be the same, and most files in the subset.
func TestYAMLSubsetOnRules(t *testing.T) {
	in, out := 0, 0
	for _, dir := range windowsRulePaths(t) {
		filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".yml") {
				return err
			}
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if checkSubset(t, path, data) {
				in++
			} else {
				out++
				if testing.Verbose() {
					t.Logf("declined: %s", path)
				}
			}
			return nil
		})
	}
	t.Logf("%d files in the subset, %d decoded by yaml.v3", in, out)
	if in < 9*(in+out)/10 {
		t.Errorf("only %d of %d files in the subset", in, in+out)
	}
}

// subsetSamples are the shapes rule files take, and near misses.
var subsetSamples = []string{
	"a: b\n",
	"a: b\xffc\n",       // not UTF-8
	"a: \xed\xa0\x80\n", // a surrogate, which UTF-8 does not encode
	"a:\n",
	"a:\nb: c\n",
	"a:   # c\n  - x\n  -\n  - 'y'\n",
	"a:\n- x\n- y\nb: 1\n",
	"a: |\n  l1\n\n    l2\n  l3\n\nb: c\n",
	"a: |-\n  l1\n  l2\n",
	"a: >\n  f1\n  f2\n\n  f3\n",
	"a: >-\n  f1\n\n\n  f2\n",
	"a: |+\n  x\n\n",
	"a: |2\n  x\n",
	"a: [x, 'y', \"z\"]\n",
	"a: []\n",
	"a: [x, ]\n",
	"a: [x, [y]]\n",
	"a: \"\\x41\\u00e9\\t\\\\\\\"\\/\"\n",
	"a: \"\\x41\\u00e9\\t\\\\\\\"\"\n",
	"a: 'it''s'\n",
	"a: b # c\nd: e#f\n",
	"a: b: c\n",
	"- a\n",
	"a:\n  - b: c\n    d: e\n  - f: g\n",
	"a:\n    b:\n        - '\\x'\n    c: 00000429\n",
	"'q k': v\n\"d k\": w\n",
	"a: plain\n  continued\n",
	"a:\n  plain on its own line\n",
	"a: &x b\nc: *x\n",
	"a: !!str b\n",
	"a: {b: c}\n",
	"<<: {a: b}\n",
	"a: ~\nb: null\nc: NULL\nd: 'null'\n",
	"a: é: x\n",
	"é: ü\nf: [é, ü]\n",
	"a: -x\nb: ?y\nc: :z\n",
	"a: x:y\n",
	"a:\n  b: c\n d: e\n",
	"a: b\n  # comment\nc: d\n",
	"a:\n-\n",
	"a: |\n   \n  x\n",
	"a: |\n  x\n   \n",
	"a: >\n  x\n    y\n",
	"a: \"b\n  c\"\n",
	"a: 'b\n  c'\n",
	"a: `x`\n",
	"a: @x\n",
	"a: b\n---\nc: d\n",
	"a: b\n\t\n",
	"? a\n: b\n",
	"a: 'x' y\n",
	"a: x ]\n",
	"a: [x,y]#c\n",
	"a: [ x , y ]  # c\n",
	"a : b\n",
	"a:b\n",
	"a:\n  - - x\n",
	"a:\n  -   b: c\n      d: e\n",
	"a: |\n  x\nb:\n",
	"0: \u008d\n",
	"0: [0?]\n",
	"0: [?x, y]\n",
	"a: x\u0085y\n",
	"a: x\u2028y\n",
	"a: \ufffe\n",
	"a: \u00a0é\U0001F600\n",
}

func TestYAMLSubsetSamples(t *testing.T) {
	for i, s := range subsetSamples {
		checkSubset(t, fmt.Sprintf("sample %d", i), []byte(s))
	}
}

// FuzzYAMLSubset: whatever the subset decoder accepts, yaml.v3 reads the
// same way.
func FuzzYAMLSubset(f *testing.F) {
	for _, s := range subsetSamples {
		f.Add([]byte(s))
	}
	for _, b := range fuzzSeedRules(60) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkSubset(t, "input", data)
	})
}

// TestSubsetParserReuse loads rule after rule on one parser's memory: a
// rule compiled from one file must be untouched by the files decoded
// after it, which write over the same nodes.
func TestSubsetParserReuse(t *testing.T) {
	c := &Collection{}
	for i := range 50 {
		src := ruleWith(fmt.Sprintf("  sel:\n    CommandLine|contains:\n      - 'needle%d'\n      - 'other%d'\n    Image|endswith: '\\x%d.exe'\n  condition: sel\n", i, i, i))
		c.Add(fmt.Sprintf("r%d.yml", i), []byte(src), LoadOptions{})
	}
	if len(c.Rules) != 50 || len(c.Refused) > 0 {
		t.Fatalf("rules %d, refused %v", len(c.Rules), c.Refused)
	}
	for i, r := range c.Rules {
		own := ev("CommandLine", fmt.Sprintf("a other%d b", i), "Image", fmt.Sprintf(`C:\x%d.exe`, i))
		next := ev("CommandLine", fmt.Sprintf("a other%d b", i+1), "Image", fmt.Sprintf(`C:\x%d.exe`, i+1))
		if !r.Match(own) || r.Match(next) {
			t.Errorf("rule %d: matches its own event %v, the next file's %v", i, r.Match(own), r.Match(next))
		}
	}
}
