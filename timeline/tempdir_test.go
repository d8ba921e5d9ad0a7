package timeline

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestTempFilesInTempDir: a sort that outgrows the page cache spills to a
// temporary file, which must be made in UseTempDir's folder. SQLite
// unlinks it at once, so it is found among the process's open files, as
// deleted.
func TestTempFilesInTempDir(t *testing.T) {
	if _, err := os.Stat("/proc/self/fd"); err != nil {
		t.Skip("no /proc/self/fd to list open files")
	}
	tmp := t.TempDir()
	t.Setenv("SQLITE_TMPDIR", "")
	if err := UseTempDir(tmp); err != nil {
		t.Fatal(err)
	}
	db, err := Create(filepath.Join(t.TempDir(), "timeline.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{`PRAGMA cache_size = 8`, `PRAGMA temp_store = FILE`, `CREATE TABLE t (v TEXT)`,
		`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000)
		INSERT INTO t SELECT printf('%0200d', (i * 7919) % 20000) FROM n`} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	rows, err := db.Query(`SELECT v FROM t ORDER BY v`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	if !rows.Next() {
		t.Fatal(rows.Err())
	}
	fds, _ := os.ReadDir("/proc/self/fd")
	var in, outside []string
	for _, fd := range fds {
		target, err := os.Readlink(filepath.Join("/proc/self/fd", fd.Name()))
		switch {
		case err != nil || !strings.HasSuffix(target, " (deleted)"):
		case strings.HasPrefix(target, tmp+string(filepath.Separator)):
			in = append(in, target)
		case slices.Contains([]string{"/var/tmp", "/usr/tmp", "/tmp", os.TempDir()}, filepath.Dir(target)):
			outside = append(outside, target) // where SQLite looks when not told
		}
	}
	if len(outside) > 0 || len(in) == 0 {
		t.Errorf("temporary files in %s: %v; elsewhere: %v", tmp, in, outside)
	}
}
