package sigma

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"

	yaml "go.yaml.in/yaml/v3"

	"triage/internal/gctune"
)

// Reasons a rule is not loaded. Each refusal names one of these, so that a
// summary can count them, and a detail saying where.
const (
	ReasonYAML           = "yaml error"
	ReasonStructure      = "malformed rule"
	ReasonModifier       = "unsupported modifier"
	ReasonValue          = "bad value"
	ReasonRegex          = "bad regex"
	ReasonCondition      = "bad condition"
	ReasonLogsource      = "unknown logsource"
	ReasonNotWindows     = "not a windows rule"
	ReasonPlaceholder    = "unresolved placeholder"
	ReasonCorrelation    = "bad correlation"
	ReasonFilter         = "bad filter"
	ReasonDuplicateID    = "duplicate id"
	ReasonNotSelected    = "not selected"
	ReasonTooLarge       = "too large"
	ReasonUnknownRuleRef = "unknown rule reference"
)

// maxRuleFile bounds the size of one rule file; SigmaHQ's largest is under
// 200 KiB.
const maxRuleFile = 8 << 20

// Refusal is a rule, correlation or filter document that was not loaded.
type Refusal struct {
	Path   string `json:"path"`
	Line   int    `json:"line,omitempty"` // 1-based, 0 when not known
	ID     string `json:"id,omitempty"`
	Title  string `json:"title,omitempty"`
	Reason string `json:"reason"` // one of the Reason constants
	Detail string `json:"detail"`
}

func (r Refusal) Error() string {
	where := r.Path
	if r.Line > 0 {
		where = fmt.Sprintf("%s:%d", r.Path, r.Line)
	}
	return fmt.Sprintf("sigma: %s: %s: %s", where, r.Reason, r.Detail)
}

// refusal is the error the compile steps return; the loader adds the path.
type refusal struct {
	reason, detail string
	line           int
}

func (e *refusal) Error() string { return e.reason + ": " + e.detail }

func refuse(reason string, n *yaml.Node, format string, args ...any) error {
	line := 0
	if n != nil {
		line = n.Line
	}
	return &refusal{reason: reason, detail: fmt.Sprintf(format, args...), line: line}
}

// RuleFile is one file read, with what it gave.
type RuleFile struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
}

// Collection is everything read from the rule paths: the rules, the
// correlations and filters, and what was refused.
type Collection struct {
	Files        []RuleFile
	Rules        []*Rule
	Correlations []*Correlation
	Filters      []*Filter
	Refused      []Refusal
}

// LoadOptions configure compiling.
type LoadOptions struct {
	// Placeholders resolve the expand modifier's %name%; each value is a
	// Sigma string (wildcards apply).
	Placeholders map[string][]string
}

// Load reads rule files and folders (recursively, .yml and .yaml) in a
// stable order. A file that cannot be read or parsed is refused, never
// fatal.
func Load(paths []string, opts LoadOptions) *Collection {
	// A file's YAML nodes are garbage once it is compiled: at the default
	// GOGC the collector ran every few megabytes, eight times in the first
	// tenth of a second of a run.
	defer gctune.Trade(gctune.Budget)()
	c := &Collection{}
	var files []string
	for _, p := range paths {
		info, err := os.Stat(p)
		if err != nil {
			c.Refused = append(c.Refused, Refusal{Path: p, Reason: ReasonYAML, Detail: err.Error()})
			continue
		}
		if !info.IsDir() {
			files = append(files, p)
			continue
		}
		filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				c.Refused = append(c.Refused, Refusal{Path: path, Reason: ReasonYAML, Detail: err.Error()})
				return nil
			}
			if !d.IsDir() && (strings.HasSuffix(path, ".yml") || strings.HasSuffix(path, ".yaml")) {
				files = append(files, path)
			}
			return nil
		})
	}
	sort.Strings(files)
	files = slices.Compact(files)
	// Files parse in parallel, each into its own collection; merged in
	// path order, the result is the same as parsing them one by one.
	parts := make([]*Collection, len(files))
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < min(runtime.GOMAXPROCS(0), 4); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(files) {
					return
				}
				part := &Collection{}
				if data, err := readBounded(files[i]); err != nil {
					part.Refused = append(part.Refused, Refusal{Path: files[i], Reason: ReasonTooLarge, Detail: err.Error()})
				} else {
					// The file's buffer is never written again: the
					// rules keep pieces of it, not of a copy.
					part.add(files[i], data, unsafe.String(unsafe.SliceData(data), len(data)), opts)
				}
				parts[i] = part
			}
		}()
	}
	wg.Wait()
	for _, p := range parts {
		c.Files = append(c.Files, p.Files...)
		c.Rules = append(c.Rules, p.Rules...)
		c.Correlations = append(c.Correlations, p.Correlations...)
		c.Filters = append(c.Filters, p.Filters...)
		c.Refused = append(c.Refused, p.Refused...)
	}
	c.resolve()
	return c
}

// readToEnd reads with read a rule file that stat says is size bytes:
// into one buffer of that size and one byte more, to see that it did not
// grow, not a slice grown as it is read. It stops at io.EOF or, without
// the read that would report it (a system call for each of 3,000 files),
// at a short read that ends at the stat's size: a file that grew fills
// the byte more. A file past maxRuleFile is refused however it got there.
func readToEnd(size int64, read func([]byte) (int, error)) ([]byte, error) {
	statSize := size
	if size <= 0 {
		size = 511
	}
	data := make([]byte, 0, min(size, maxRuleFile)+1)
	for {
		asked := cap(data) - len(data)
		n, err := read(data[len(data):cap(data)])
		data = data[:len(data)+n]
		if len(data) > maxRuleFile {
			return nil, fmt.Errorf("larger than %d bytes", maxRuleFile)
		}
		if err == io.EOF || err == nil && n < asked && int64(len(data)) == statSize {
			return data, nil
		}
		if err != nil {
			return nil, err
		}
		if len(data) == cap(data) {
			data = append(data, 0)[:len(data)] // it grew while read
		}
	}
}

// Add parses one file's documents into the collection. Call Resolve (or
// use Load) once every file is in.
func (c *Collection) Add(path string, data []byte, opts LoadOptions) {
	c.add(path, data, string(data), opts)
}

// add is Add with the text of data, which the rules may keep.
func (c *Collection) add(path string, data []byte, text string, opts LoadOptions) {
	sum := sha256.Sum256(data)
	var digest [2 * sha256.Size]byte
	hex.Encode(digest[:], sum[:])
	c.Files = append(c.Files, RuleFile{Path: path, SHA256: string(digest[:])})
	// Nearly every rule file is in the subset of YAML decodeSubset reads,
	// at a fraction of yaml.v3's cost; the rest, and every error, go to
	// yaml.v3. The rules keep no node, so the parser's memory serves the
	// next file.
	p := subsetParsers.Get().(*subsetParser)
	defer func() { p.reset(); subsetParsers.Put(p) }()
	if root, ok := p.decode(text); ok {
		c.addDocument(path, 0, root, opts)
		return
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for doc := 0; ; doc++ {
		var root yaml.Node
		err := dec.Decode(&root)
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			// The decoder cannot go on past a syntax error.
			c.Refused = append(c.Refused, Refusal{Path: path, Line: yamlErrorLine(err), Reason: ReasonYAML, Detail: err.Error()})
			return
		}
		c.addDocument(path, doc, &root, opts)
	}
}

// yamlErrorLine takes the line from the decoder's message ("yaml: line 3: …").
func yamlErrorLine(err error) int {
	var line int
	msg := err.Error()
	if i := strings.Index(msg, "line "); i >= 0 {
		fmt.Sscanf(msg[i+5:], "%d", &line)
	}
	return line
}

func (c *Collection) addDocument(path string, doc int, root *yaml.Node, opts LoadOptions) {
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	if root.Kind == 0 || (root.Kind == yaml.ScalarNode && root.Tag == "!!null") {
		return // an empty document, e.g. after a trailing ---
	}
	m, err := mapping(root)
	if err != nil {
		c.Refused = append(c.Refused, refusalAt(path, nil, err))
		return
	}
	meta := readMeta(m)
	switch {
	case m.get("correlation") != nil:
		cr, err := compileCorrelation(m, meta)
		if err != nil {
			c.Refused = append(c.Refused, refusalAt(path, meta, err))
			return
		}
		cr.Path, cr.Doc = path, doc
		c.Correlations = append(c.Correlations, cr)
	case m.get("filter") != nil && m.get("detection") == nil:
		f, err := compileFilter(m, meta, opts)
		if err != nil {
			c.Refused = append(c.Refused, refusalAt(path, meta, err))
			return
		}
		f.Path, f.Doc = path, doc
		c.Filters = append(c.Filters, f)
	default:
		r, err := compileRule(m, meta, opts)
		if err != nil {
			c.Refused = append(c.Refused, refusalAt(path, meta, err))
			return
		}
		r.Path, r.Doc = path, doc
		c.Rules = append(c.Rules, r)
	}
}

func refusalAt(path string, meta *Meta, err error) Refusal {
	r := Refusal{Path: path, Reason: ReasonStructure, Detail: err.Error()}
	var rf *refusal
	if errors.As(err, &rf) {
		r.Reason, r.Detail, r.Line = rf.reason, rf.detail, rf.line
	}
	if meta != nil {
		r.ID, r.Title = meta.ID, meta.Title
		if r.Line == 0 {
			r.Line = meta.Line
		}
	}
	return r
}

// ymap is a YAML mapping with its keys in source order.
type ymap struct {
	node *yaml.Node
	keys []string
	vals []*yaml.Node
	keyN []*yaml.Node
	// The lists of a small mapping, as most of a rule's are, so that
	// reading one is one allocation, not four.
	keyBuf  [smallMap]string
	nodeBuf [2 * smallMap]*yaml.Node
}

const smallMap = 4

func (m *ymap) get(k string) *yaml.Node {
	for i, key := range m.keys {
		if key == k {
			return m.vals[i]
		}
	}
	return nil
}

// deref follows aliases, which YAML allows anywhere; the depth bound keeps
// a hostile file from looping.
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 16; i++ {
		n = n.Alias
	}
	return n
}

func mapping(n *yaml.Node) (*ymap, error) {
	n = deref(n)
	if n == nil || n.Kind != yaml.MappingNode {
		return nil, refuse(ReasonStructure, n, "want a mapping, found %s", kindName(n))
	}
	pairs := len(n.Content) / 2
	m := &ymap{node: n}
	if pairs <= smallMap {
		m.keys, m.vals, m.keyN = m.keyBuf[:0:pairs], m.nodeBuf[:0:pairs], m.nodeBuf[smallMap:smallMap:smallMap+pairs]
	} else {
		nodes := make([]*yaml.Node, 2*pairs)
		m.keys, m.vals, m.keyN = make([]string, 0, pairs), nodes[:0:pairs], nodes[pairs:pairs]
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), n.Content[i+1]
		if k == nil || k.Kind != yaml.ScalarNode {
			return nil, refuse(ReasonStructure, n.Content[i], "mapping key is not a scalar")
		}
		if k.Tag == "!!merge" {
			return nil, refuse(ReasonStructure, k, "merge keys are not supported")
		}
		if m.get(k.Value) != nil {
			return nil, refuse(ReasonStructure, k, "key %q repeated", k.Value)
		}
		m.keys = append(m.keys, k.Value)
		m.vals = append(m.vals, deref(v))
		m.keyN = append(m.keyN, k)
	}
	return m, nil
}

func kindName(n *yaml.Node) string {
	if n == nil {
		return "nothing"
	}
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return fmt.Sprintf("the scalar %q", clip(n.Value))
	}
	return "an unexpected node"
}

func clip(s string) string {
	if len(s) > 60 {
		return s[:60] + "…"
	}
	return s
}

// text returns a scalar's source text, or "" for anything else.
func text(n *yaml.Node) string {
	n = deref(n)
	if n == nil || n.Kind != yaml.ScalarNode || isNull(n) {
		return ""
	}
	return n.Value
}

// texts reads a scalar or a list of scalars.
func texts(n *yaml.Node) []string {
	n = deref(n)
	if n == nil {
		return nil
	}
	if n.Kind == yaml.ScalarNode {
		if t := text(n); t != "" {
			return []string{t}
		}
		return nil
	}
	var out []string
	if n.Kind == yaml.SequenceNode {
		for _, c := range n.Content {
			if t := text(c); t != "" {
				out = append(out, t)
			}
		}
	}
	return out
}

func isNull(n *yaml.Node) bool {
	if n.Kind != yaml.ScalarNode || n.Style&(yaml.SingleQuotedStyle|yaml.DoubleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
		return false
	}
	switch n.Value {
	case "", "~", "null", "Null", "NULL":
		return true
	}
	return false
}

// Meta is what a rule says about itself.
type Meta struct {
	ID, Name, Title, Status, Level  string
	Description, Author, Date       string
	Modified, License               string
	References, Tags, FalsePositive []string
	Line                            int // of the document
}

func readMeta(m *ymap) *Meta {
	return &Meta{
		ID: text(m.get("id")), Name: text(m.get("name")), Title: text(m.get("title")),
		Status: text(m.get("status")), Level: text(m.get("level")), Description: text(m.get("description")),
		Author: text(m.get("author")), Date: text(m.get("date")), Modified: text(m.get("modified")),
		License: text(m.get("license")), References: texts(m.get("references")), Tags: texts(m.get("tags")),
		FalsePositive: texts(m.get("falsepositives")), Line: m.node.Line,
	}
}
