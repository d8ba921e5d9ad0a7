//go:build !cgo || !unix

package ewf

func libdeflateState() (name, why string) { return "", "built without cgo" }

func libdeflateZlib(src, out []byte) (int, bool) { return 0, false }
