package collectors

import (
	"bytes"
	"io"
	"path"
	"strings"
)

var (
	evtxMagic     = []byte("ElfFile\x00")
	sccaMagic     = []byte("SCCA")
	mamMagic      = []byte("MAM\x04")
	scriptSuffix  = []string{".ps1", ".psm1", ".psd1", ".vbs", ".vbe", ".js", ".jse", ".wsf", ".hta"}
	batchSuffix   = []string{".bat", ".cmd"}
	historySuffix = "_history.txt"
)

// headSize is how much of a file classification reads.
const headSize = 512

// classify decides an artifact's kind from the first bytes of its content
// and its path. Binary kinds are told by their signature wherever they lie
// and whatever their name, or by their extension when the signature is
// damaged. Text kinds are told by path and name alone, whatever the content:
// an attacker's script padded with NUL bytes or written as UTF-16 without a
// byte order mark is still a script, and the text decoder decides how to
// read it.
func classify(p string, head []byte) Kind {
	name := strings.ToLower(path.Base(p))
	switch {
	case bytes.HasPrefix(head, evtxMagic):
		return EVTX
	case len(head) >= 8 && bytes.Equal(head[4:8], sccaMagic), bytes.HasPrefix(head, mamMagic):
		return Prefetch
	case strings.HasSuffix(name, ".evtx"):
		return EVTX // damaged beyond its signature: the parser reports why
	case strings.HasSuffix(name, ".pf"):
		return Prefetch // e.g. an all-zero .pf: the parser says it is not prefetch
	case isHistory(p, name):
		return History
	case hasSuffix(name, batchSuffix):
		return Batch
	case hasSuffix(name, scriptSuffix):
		return Script
	}
	return ""
}

// isHistory recognises PSReadLine's history files: ConsoleHost_history.txt
// and the per-host files beside it, in a PSReadLine folder or, when a
// collection flattened the tree, by the default name alone.
func isHistory(p, name string) bool {
	if !strings.HasSuffix(name, historySuffix) {
		return false
	}
	return name == "consolehost_history.txt" || strings.Contains(strings.ToLower(p), "psreadline")
}

func hasSuffix(name string, suffixes []string) bool {
	for _, s := range suffixes {
		if strings.HasSuffix(name, s) {
			return true
		}
	}
	return false
}

// readHead reads up to headSize bytes from the start of r; a short file is
// not an error.
func readHead(r io.Reader) ([]byte, error) {
	head := make([]byte, headSize)
	n, err := io.ReadFull(r, head)
	if err == io.ErrUnexpectedEOF || err == io.EOF {
		err = nil
	}
	return head[:n], err
}
