//go:build !cgo || !unix

package ewf

// Without cgo there is no dlopen: every chunk goes to the Go decoder.

func libdeflateState() (name, why string) { return "", "built without cgo" }

func libdeflateZlib(src, out []byte) (int, bool) { return 0, false }
