package ingest

import (
	"reflect"
	"testing"
)

func TestNameHosts(t *testing.T) {
	type root struct{ path, computer, folder string }
	tests := []struct {
		name  string
		roots []root
		o     Options
		want  []HostName
	}{{
		name:  "one root takes its Computer field",
		roots: []root{{"/e/a", "WS01", "a"}},
		want:  []HostName{{Name: "WS01", EvidenceRoot: "/e/a", Source: NamedByComputer, Computer: "WS01"}},
	}, {
		name:  "no computer named: the folder",
		roots: []root{{"/e/a.zip", "", "a"}},
		want:  []HostName{{Name: "a", EvidenceRoot: "/e/a.zip", Source: NamedByFolder, Detail: "no event log names the computer"}},
	}, {
		name:  "copies of one host never merge",
		roots: []root{{"/e/host01", "WS01", "host01"}, {"/e/host02", "ws01", "host02"}, {"/e/other", "DC01", "other"}},
		want: []HostName{
			{Name: "host01", EvidenceRoot: "/e/host01", Source: NamedByFolder, Computer: "WS01", Detail: "Computer WS01 is named by 2 evidence roots"},
			{Name: "host02", EvidenceRoot: "/e/host02", Source: NamedByFolder, Computer: "ws01", Detail: "Computer ws01 is named by 2 evidence roots"},
			{Name: "DC01", EvidenceRoot: "/e/other", Source: NamedByComputer, Computer: "DC01"},
		},
	}, {
		name:  "same folder names are numbered",
		roots: []root{{"/e/1/C", "WS01", "C"}, {"/e/2/C", "WS01", "C"}},
		want: []HostName{
			{Name: "C", EvidenceRoot: "/e/1/C", Source: NamedByFolder, Computer: "WS01", Detail: "Computer WS01 is named by 2 evidence roots"},
			{Name: "C-2", EvidenceRoot: "/e/2/C", Source: NamedByFolder, Computer: "WS01", Detail: "Computer WS01 is named by 2 evidence roots; folder name C is taken"},
		},
	}, {
		name:  "a host already in the case is not taken again",
		roots: []root{{"/e/b", "WS01", "b"}},
		o:     Options{Taken: []string{"ws01"}},
		want:  []HostName{{Name: "b", EvidenceRoot: "/e/b", Source: NamedByFolder, Computer: "WS01", Detail: "Computer WS01 is already a host of the case"}},
	}, {
		name:  "a folder name is not a name --host gave",
		roots: []root{{"/e/x", "WS01", "x"}, {"/e/y", "", "y"}, {"/e/z", "WS01", "z"}},
		o:     Options{Names: map[string]string{"/e/x": "y"}},
		want: []HostName{
			{Name: "y", EvidenceRoot: "/e/x", Source: NamedByFlag, Computer: "WS01"},
			{Name: "y-2", EvidenceRoot: "/e/y", Source: NamedByFolder, Detail: "no event log names the computer; folder name y is taken"},
			// Only one root is left to the logs' name, which is then its own.
			{Name: "WS01", EvidenceRoot: "/e/z", Source: NamedByComputer, Computer: "WS01"},
		},
	}, {
		name:  "--host NAME names every root NAME=PATH does not",
		roots: []root{{"/e/x", "WS01", "x"}, {"/e/y", "WS02", "y"}},
		o:     Options{Host: "all", Names: map[string]string{"/e/y": "why"}},
		want: []HostName{
			{Name: "all", EvidenceRoot: "/e/x", Source: NamedByFlag, Computer: "WS01"},
			{Name: "why", EvidenceRoot: "/e/y", Source: NamedByFlag, Computer: "WS02"},
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := &Result{}
			for _, r := range tt.roots {
				res.opened = append(res.opened, &Host{Root: r.path, Computer: r.computer, folder: r.folder})
			}
			nameHosts(res.opened, tt.o)
			if got := res.HostNames(); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}
