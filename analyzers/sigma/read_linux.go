package sigma

import (
	"fmt"
	"os"
	"syscall"
)

// readBounded reads a rule file in one fstat and a read to the end. It
// does not use os.Open: for every file that sets the descriptor
// non-blocking, fails to register it with the poller (a regular file
// cannot be) and sets it back, six system calls of the ten a file cost.
// The errors are the ones os.File gives.
func readBounded(path string) ([]byte, error) {
	var fd int
	var err error
	for {
		fd, err = syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	defer syscall.Close(fd)
	// One buffer of the file's size (and one byte more, to see that it did
	// not grow), not a slice grown as it is read.
	size := int64(512)
	var st syscall.Stat_t
	if syscall.Fstat(fd, &st) == nil && st.Size > 0 {
		size = min(st.Size, maxRuleFile) + 1
	}
	data := make([]byte, 0, size)
	for {
		n, err := syscall.Read(fd, data[len(data):cap(data)])
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return nil, &os.PathError{Op: "read", Path: path, Err: err}
		}
		if n == 0 {
			return data, nil
		}
		data = data[:len(data)+n]
		if len(data) > maxRuleFile {
			return nil, fmt.Errorf("larger than %d bytes", maxRuleFile)
		}
		if len(data) == cap(data) {
			data = append(data, 0)[:len(data)] // it grew while read
		}
	}
}
