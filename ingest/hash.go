package ingest

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"os"
	"sync"

	"triage/collectors"
)

// digest is what hashing an artifact's bytes gives.
type digest struct {
	sha256, md5 string
	size        int64 // bytes read
	err         error
}

// hashReader returns the SHA-256 and MD5 of everything r holds, read once.
// Past the first buffer MD5, which costs twice what SHA-256 does on this
// hardware, runs on a goroutine of its own while this one reads the next
// buffer and feeds SHA-256, so that a large artifact is hashed on both
// cores.
func hashReader(r io.Reader) (string, string, error) {
	d := hashStream(r, true)
	return d.sha256, d.md5, d.err
}

// hashStream reads r to its end through SHA-256 and, with withMD5, MD5.
func hashStream(r io.Reader, withMD5 bool) digest {
	bufs := [2]*[]byte{hashBuffers.Get().(*[]byte), hashBuffers.Get().(*[]byte)}
	defer hashBuffers.Put(bufs[0])
	defer hashBuffers.Put(bufs[1])
	s := sha256.New()
	var m hash.Hash
	if withMD5 {
		m = md5.New()
	}
	// side hashes on the MD5 goroutine, which is started only once a
	// second buffer is needed: most artifacts fit in one.
	var side *sideHash
	defer func() {
		if side != nil {
			side.stop()
		}
	}()
	var d digest
	for i := 0; ; i++ {
		buf := *bufs[i%2]
		n, err := io.ReadFull(r, buf)
		d.size += int64(n)
		last := err == io.EOF || err == io.ErrUnexpectedEOF
		if err != nil && !last {
			d.err = fmt.Errorf("read: %w", err)
			return d
		}
		switch {
		case m == nil:
		case side != nil:
			side.wait() // the other buffer is free again
			side.write(buf[:n])
		case last:
			m.Write(buf[:n])
		default:
			side = startSideHash(m)
			side.write(buf[:n])
		}
		s.Write(buf[:n])
		if last {
			break
		}
	}
	d.sha256 = hex.EncodeToString(s.Sum(nil))
	if m != nil {
		if side != nil {
			side.wait()
		}
		d.md5 = hex.EncodeToString(m.Sum(nil))
	}
	return d
}

// sideHash runs one hash on its own goroutine, a buffer at a time.
type sideHash struct {
	in   chan []byte
	done chan struct{}
	busy bool
}

func startSideHash(h hash.Hash) *sideHash {
	sh := &sideHash{in: make(chan []byte), done: make(chan struct{})}
	go func() {
		for b := range sh.in {
			h.Write(b)
			sh.done <- struct{}{}
		}
	}()
	return sh
}

// write hands b to the goroutine; b must not change until wait returns.
func (sh *sideHash) write(b []byte) {
	sh.in <- b
	sh.busy = true
}

// wait returns once the last buffer written is hashed.
func (sh *sideHash) wait() {
	if sh.busy {
		<-sh.done
		sh.busy = false
	}
}

func (sh *sideHash) stop() {
	sh.wait()
	close(sh.in)
}

// rehashArtifact reads the artifact through again at the end of the run,
// through SHA-256 alone: equal SHA-256 and size mean equal bytes, so MD5,
// kept for matching against other tools' hash lists, is not recomputed.
func rehashArtifact(a *collectors.Artifact) digest {
	f, err := a.Open()
	if err != nil {
		return digest{err: err}
	}
	defer f.Close()
	return hashStream(f, false)
}

// hashBuffers hold 1 MiB reads: io.Copy's 32 KiB reads made a system call
// per 32 KiB of evidence, twice per artifact.
var hashBuffers = sync.Pool{New: func() any { b := make([]byte, 1<<20); return &b }}

// HashFile returns the SHA-256 and size of the file at path, read as a
// stream: outputs such as timeline.db can be larger than the memory a run
// may use.
func HashFile(path string) (sha string, size int64, err error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	return HashReader(f)
}

// HashReader returns the SHA-256 and size of what r reads, as HashFile.
func HashReader(r io.Reader) (sha string, size int64, err error) {
	d := hashStream(r, false)
	if d.err != nil {
		return "", 0, d.err
	}
	return d.sha256, d.size, nil
}
