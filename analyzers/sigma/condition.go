package sigma

import (
	"fmt"
	"path"
	"sort"
	"strings"
)

// cond is a parsed condition expression.
type cond struct {
	op   condOp
	sel  int // condSel: index into the rule's selections
	args []*cond
}

type condOp uint8

const (
	condSel condOp = iota
	condAnd
	condOr
	condNot
)

// maxConditionDepth bounds nesting so a hostile condition cannot exhaust
// the stack.
const maxConditionDepth = 64

type condParser struct {
	toks  []string
	pos   int
	names []string // sorted selection names
	depth int
}

func tokenize(s string) ([]string, error) {
	var toks []string
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(' || c == ')':
			toks = append(toks, string(c))
			i++
		case c == '|':
			return nil, fmt.Errorf("the aggregation %q is not supported; use a correlation rule", strings.TrimSpace(s[i:]))
		case isIdentByte(c):
			j := i
			for j < len(s) && isIdentByte(s[j]) {
				j++
			}
			toks = append(toks, s[i:j])
			i = j
		default:
			return nil, fmt.Errorf("unexpected %q at column %d", c, i+1)
		}
	}
	return toks, nil
}

func isIdentByte(c byte) bool {
	return c == '_' || c == '-' || c == '*' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

// parseCondition parses the grammar of the specification: or binds
// loosest, then and, then not, then "x of", then parentheses.
func parseCondition(s string, names []string) (*cond, error) {
	toks, err := tokenize(s)
	if err != nil {
		return nil, err
	}
	p := &condParser{toks: toks, names: names}
	c, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.pos < len(p.toks) {
		return nil, fmt.Errorf("unexpected %q", p.toks[p.pos])
	}
	return c, nil
}

func (p *condParser) peek() string {
	if p.pos < len(p.toks) {
		return strings.ToLower(p.toks[p.pos])
	}
	return ""
}

func (p *condParser) or() (*cond, error) {
	return p.binary("or", condOr, p.and)
}

func (p *condParser) and() (*cond, error) {
	return p.binary("and", condAnd, p.not)
}

func (p *condParser) binary(word string, op condOp, next func() (*cond, error)) (*cond, error) {
	first, err := next()
	if err != nil {
		return nil, err
	}
	args := []*cond{first}
	for p.peek() == word {
		p.pos++
		c, err := next()
		if err != nil {
			return nil, err
		}
		args = append(args, c)
	}
	if len(args) == 1 {
		return first, nil
	}
	return &cond{op: op, args: args}, nil
}

func (p *condParser) not() (*cond, error) {
	if p.peek() != "not" {
		return p.primary()
	}
	p.pos++
	if p.depth++; p.depth > maxConditionDepth {
		return nil, fmt.Errorf("nested deeper than %d", maxConditionDepth)
	}
	c, err := p.not()
	p.depth--
	if err != nil {
		return nil, err
	}
	return &cond{op: condNot, args: []*cond{c}}, nil
}

func (p *condParser) primary() (*cond, error) {
	t := p.peek()
	switch t {
	case "":
		return nil, fmt.Errorf("condition ends early")
	case "(":
		p.pos++
		if p.depth++; p.depth > maxConditionDepth {
			return nil, fmt.Errorf("nested deeper than %d", maxConditionDepth)
		}
		c, err := p.or()
		p.depth--
		if err != nil {
			return nil, err
		}
		if p.peek() != ")" {
			return nil, fmt.Errorf("missing )")
		}
		p.pos++
		return c, nil
	case ")", "and", "or", "of", "them":
		return nil, fmt.Errorf("unexpected %q", t)
	case "near":
		return nil, fmt.Errorf("near is not supported")
	}
	if p.pos+1 < len(p.toks) && strings.ToLower(p.toks[p.pos+1]) == "of" {
		return p.selector()
	}
	p.pos++
	name := p.toks[p.pos-1]
	i := sort.SearchStrings(p.names, name)
	if i == len(p.names) || p.names[i] != name {
		return nil, fmt.Errorf("unknown search identifier %q", name)
	}
	return &cond{op: condSel, sel: i}, nil
}

func (p *condParser) selector() (*cond, error) {
	quant := p.peek()
	var op condOp
	switch quant {
	case "1", "any":
		op = condOr
	case "all":
		op = condAnd
	default:
		return nil, fmt.Errorf("%q of: only 1, any and all are defined", quant)
	}
	p.pos += 2
	if p.pos >= len(p.toks) {
		return nil, fmt.Errorf("%s of what", quant)
	}
	target := p.toks[p.pos]
	p.pos++
	var args []*cond
	for i, name := range p.names {
		if target == "them" || strings.ToLower(target) == "them" {
			if !strings.HasPrefix(name, "_") {
				args = append(args, &cond{op: condSel, sel: i})
			}
			continue
		}
		if strings.HasPrefix(name, "_") && !strings.HasPrefix(target, "_") {
			continue
		}
		if ok, _ := path.Match(target, name); ok && !strings.ContainsAny(target, "[]?\\") {
			args = append(args, &cond{op: condSel, sel: i})
		}
	}
	if len(args) == 0 {
		return nil, fmt.Errorf("%s of %s matches no search identifier", quant, target)
	}
	if len(args) == 1 {
		return args[0], nil
	}
	return &cond{op: op, args: args}, nil
}

// selsOf lists the selections a condition uses, so that unused ones are
// not evaluated.
func (c *cond) walk(f func(*cond)) {
	f(c)
	for _, a := range c.args {
		a.walk(f)
	}
}
