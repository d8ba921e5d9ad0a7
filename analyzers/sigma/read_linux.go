package sigma

import (
	"io"
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
	var size int64
	var st syscall.Stat_t
	if syscall.Fstat(fd, &st) == nil {
		size = st.Size
	}
	return readToEnd(size, func(b []byte) (int, error) {
		for {
			n, err := syscall.Read(fd, b)
			switch {
			case err == syscall.EINTR:
				continue
			case err != nil:
				return 0, &os.PathError{Op: "read", Path: path, Err: err}
			case n == 0:
				return 0, io.EOF
			}
			return n, nil
		}
	})
}
