//go:build cgo && unix

package ewf

// libdeflate (https://github.com/ebiggers/libdeflate) inflates a whole
// in-memory zlib stream several times faster than any Go decoder, and is
// fuzzed upstream for untrusted input. It is loaded with dlopen rather than
// linked so that the binary builds and runs without it (Debian ships the
// runtime library, libdeflate0, without a header or an unversioned .so),
// and the function types are declared here for the same reason; the
// decompression API has been stable since libdeflate 1.0.

/*
#cgo linux LDFLAGS: -ldl
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stddef.h>
#include <stdlib.h>

typedef void *(*ld_alloc_fn)(void);
typedef int (*ld_zlib_fn)(void *d, const void *in, size_t in_nbytes,
	void *out, size_t out_nbytes_avail, size_t *actual_out_nbytes_ret);
typedef void (*ld_free_fn)(void *d);

static ld_alloc_fn ld_alloc;
static ld_zlib_fn ld_zlib;
static ld_free_fn ld_free;

// ld_open loads the library and its three functions. It returns NULL on
// success, else the reason; *path is the file that was loaded.
static const char *ld_open(const char *name, const char **path) {
	void *h = dlopen(name, RTLD_NOW | RTLD_LOCAL);
	if (h == NULL) {
		const char *e = dlerror();
		return e != NULL ? e : "dlopen failed";
	}
	ld_alloc_fn a = (ld_alloc_fn)dlsym(h, "libdeflate_alloc_decompressor");
	ld_zlib_fn z = (ld_zlib_fn)dlsym(h, "libdeflate_zlib_decompress");
	ld_free_fn f = (ld_free_fn)dlsym(h, "libdeflate_free_decompressor");
	if (a == NULL || z == NULL || f == NULL) {
		dlclose(h);
		return "a libdeflate_*_decompress* symbol is missing";
	}
	Dl_info info;
	*path = name;
	if (dladdr((void *)z, &info) != 0 && info.dli_fname != NULL) {
		*path = info.dli_fname;
	}
	ld_alloc = a;
	ld_zlib = z;
	ld_free = f;
	return NULL;
}

static void *ld_new(void) { return ld_alloc(); }
static void ld_release(void *d) { ld_free(d); }
static int ld_zlib_call(void *d, const void *in, size_t n, void *out, size_t avail, size_t *got) {
	return ld_zlib(d, in, n, out, avail, got);
}
*/
import "C"

import (
	"os"
	"runtime"
	"sync"
	"unsafe"
)

const libdeflateName = "libdeflate.so.0"

// libdeflate's enum libdeflate_result.
const ldSuccess = 0

var (
	ldOnce sync.Once
	ldName string // "libdeflate (<file>)" once loaded
	ldErr  string // why it was not loaded
)

func loadLibdeflate() {
	if os.Getenv(pureGoEnv) == "1" {
		ldErr = pureGoEnv + "=1"
		return
	}
	name := C.CString(libdeflateName)
	defer C.free(unsafe.Pointer(name))
	var path *C.char
	if e := C.ld_open(name, &path); e != nil {
		ldErr = C.GoString(e)
		return
	}
	ldName = "libdeflate (" + C.GoString(path) + ")"
}

// libdeflateState reports the loaded library, or why there is none.
func libdeflateState() (name, why string) {
	ldOnce.Do(loadLibdeflate)
	return ldName, ldErr
}

// decompressor owns one libdeflate decompressor, which is not safe for
// concurrent use; the pool gives each goroutine its own, and the cleanup
// frees those the pool drops.
type decompressor struct{ p unsafe.Pointer }

var decompressors = sync.Pool{New: func() any {
	p := C.ld_new()
	if p == nil {
		return nil
	}
	d := &decompressor{p}
	runtime.AddCleanup(d, func(p unsafe.Pointer) { C.ld_release(p) }, p)
	return d
}}

// libdeflateZlib inflates the zlib stream src into out, which bounds the
// output, and checks its Adler-32. ok is false when the library is not
// loaded, out of memory, or refuses src for any reason: the caller then
// decodes with the Go decoder, which names the error.
func libdeflateZlib(src, out []byte) (n int, ok bool) {
	if name, _ := libdeflateState(); name == "" || len(src) < 2 || len(out) == 0 {
		return 0, false
	}
	d, _ := decompressors.Get().(*decompressor)
	if d == nil {
		return 0, false
	}
	var got C.size_t
	// Go memory holding no Go pointers may be passed for the call's
	// duration; libdeflate keeps no reference to it.
	res := C.ld_zlib_call(d.p, unsafe.Pointer(&src[0]), C.size_t(len(src)),
		unsafe.Pointer(&out[0]), C.size_t(len(out)), &got)
	decompressors.Put(d)
	if res != ldSuccess || int(got) > len(out) {
		return 0, false
	}
	return int(got), true
}
