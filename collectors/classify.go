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

// classify decides an artifact's kind. Binary kinds are told by their
// signature wherever they lie and whatever their name; text kinds by name,
// and then only if the content is text.
func classify(p string, open func() (File, error)) (Kind, error) {
	name := strings.ToLower(path.Base(p))
	f, err := open()
	if err != nil {
		return "", err
	}
	defer f.Close()
	head := make([]byte, 512)
	n, err := io.ReadFull(f, head)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return "", err
	}
	head = head[:n]
	switch {
	case bytes.HasPrefix(head, evtxMagic):
		return EVTX, nil
	case len(head) >= 8 && bytes.Equal(head[4:8], sccaMagic), bytes.HasPrefix(head, mamMagic):
		return Prefetch, nil
	case strings.HasSuffix(name, ".evtx"):
		return EVTX, nil // damaged beyond its signature: the parser reports why
	case strings.HasSuffix(name, ".pf"):
		return Prefetch, nil // e.g. an all-zero .pf: the parser says it is not prefetch
	}
	if !isText(head) {
		return "", nil
	}
	switch {
	case strings.HasSuffix(name, historySuffix) && strings.Contains(strings.ToLower(p), "psreadline"):
		return History, nil
	case hasSuffix(name, batchSuffix):
		return Batch, nil
	case hasSuffix(name, scriptSuffix):
		return Script, nil
	}
	return "", nil
}

func hasSuffix(name string, suffixes []string) bool {
	for _, s := range suffixes {
		if strings.HasSuffix(name, s) {
			return true
		}
	}
	return false
}

// isText accepts UTF-16 with a byte order mark, and otherwise any content
// without NUL bytes in its first block.
func isText(head []byte) bool {
	if bytes.HasPrefix(head, []byte{0xff, 0xfe}) || bytes.HasPrefix(head, []byte{0xfe, 0xff}) {
		return true
	}
	return bytes.IndexByte(head, 0) < 0
}
