package main

import (
	"fmt"
	"path/filepath"
	"strings"
)

// hostFlags collects the --host values of a run: NAME names every root that
// no NAME=PATH names; NAME=PATH names the root PATH, which need not be
// repeated as EVIDENCE.
type hostFlags struct {
	values []string
	all    string            // the NAME of a --host NAME
	names  map[string]string // root as given in the evidence → NAME
	paths  map[string]string // root as given in the evidence → PATH of its NAME=PATH
}

func (h *hostFlags) String() string { return strings.Join(h.values, " ") }

func (h *hostFlags) Set(v string) error {
	h.values = append(h.values, v)
	return nil
}

// resolve checks the --host values and matches each NAME=PATH with the
// EVIDENCE root it names. It gives back the evidence, with the PATHs that
// were not given as EVIDENCE appended in flag order.
func (h *hostFlags) resolve(evidence []string) ([]string, error) {
	h.names, h.paths = map[string]string{}, map[string]string{}
	evidence = append([]string(nil), evidence...)
	for _, v := range h.values {
		name, path, named := strings.Cut(v, "=")
		if err := plainText("host", name); err != nil {
			return nil, err
		}
		if strings.TrimSpace(name) == "" {
			return nil, &usageError{msg: fmt.Sprintf("--host %q names no host", v),
				hints: []string{"give --host NAME for all evidence, or --host NAME=PATH for one root"}}
		}
		if strings.ContainsAny(name, `/\`) {
			return nil, &usageError{msg: fmt.Sprintf("--host %s: a host name holds no / or \\", name),
				hints: []string{fmt.Sprintf("to name one root, give --host NAME=PATH, for example --host host01=%s", name)}}
		}
		if !named {
			if h.all != "" {
				return nil, &usageError{msg: fmt.Sprintf("--host %s and --host %s both name every root", h.all, name),
					hints: []string{"name each root with --host NAME=PATH"}}
			}
			h.all = name
			continue
		}
		if path == "" {
			return nil, &usageError{msg: fmt.Sprintf("--host %s= names no evidence root", name),
				hints: []string{"for example --host host01=/evidence/host01"}}
		}
		root := matchRoot(evidence, path)
		if root == "" {
			evidence = append(evidence, path)
			root = path
		}
		if prev, ok := h.names[root]; ok {
			return nil, &usageError{msg: fmt.Sprintf("--host %s=%s and --host %s=%s name the same root", prev, h.paths[root], name, path)}
		}
		h.names[root], h.paths[root] = name, path
	}
	return evidence, nil
}

// matchRoot finds path among the evidence roots as given, comparing clean
// absolute paths, so ./a, a/ and /cwd/a are one root; "" when none is.
func matchRoot(evidence []string, path string) string {
	want := absClean(path)
	for _, ev := range evidence {
		if absClean(ev) == want {
			return ev
		}
	}
	return ""
}

func absClean(p string) string {
	if abs, err := filepath.Abs(p); err == nil {
		return abs
	}
	return filepath.Clean(p)
}
