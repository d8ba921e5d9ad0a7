package evtx

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"triage/internal/testcorpus"
)

// BenchmarkKAPELogs parses every log of the KAPE host into typed records;
// SetBytes makes -bench report MB/s of input.
func BenchmarkKAPELogs(b *testing.B) {
	var files []string
	var size int64
	filepath.WalkDir(filepath.Join(testcorpus.Dir(b), "kape"), func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && filepath.Ext(path) == ".evtx" {
			files = append(files, path)
			if st, err := os.Stat(path); err == nil {
				size += st.Size()
			}
		}
		return err
	})
	benchFiles(b, files, size)
}

// BenchmarkLargestAttackLogs parses the three largest attack recordings.
func BenchmarkLargestAttackLogs(b *testing.B) {
	root := filepath.Join(testcorpus.Dir(b), "evtx", "powershell")
	var files []string
	var size int64
	for _, name := range []string{"Microsoft-Windows-Sysmon%4Operational.evtx", "Microsoft-Windows-PowerShell%4Operational.evtx", "Windows PowerShell.evtx"} {
		p := filepath.Join(root, name)
		st, err := os.Stat(p)
		if err != nil {
			b.Fatal(err)
		}
		files = append(files, p)
		size += st.Size()
	}
	benchFiles(b, files, size)
}

func benchFiles(b *testing.B, files []string, size int64) {
	b.SetBytes(size)
	b.ReportAllocs()
	workers := runtime.GOMAXPROCS(0)
	for i := 0; i < b.N; i++ {
		for _, p := range files {
			f, err := Open(p)
			if err != nil {
				b.Fatal(err)
			}
			f.SetWorkers(workers)
			for rec := range f.Records() {
				_ = rec
			}
			f.Close()
		}
	}
}
