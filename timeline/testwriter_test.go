package timeline

import (
	"database/sql"
	"path/filepath"
	"testing"
)

// newTestWriter creates a timeline in the test's temporary folder, closed
// when the test ends, and a Writer on it with the artifact a added (a.ID
// set).
func newTestWriter(t testing.TB, a *Artifact) (*sql.DB, *Writer) {
	t.Helper()
	db, err := Create(filepath.Join(t.TempDir(), "timeline.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	w, err := NewWriter(db)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.AddArtifact(a); err != nil {
		t.Fatal(err)
	}
	return db, w
}
