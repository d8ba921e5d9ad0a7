package outfile

import (
	"os"

	"golang.org/x/sys/unix"
)

// canSyncAll: syncfs(2) writes out a whole file system in one call.
const canSyncAll = true

// syncAll makes everything written to dir's file system durable.
func syncAll(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	return unix.Syncfs(int(f.Fd()))
}
