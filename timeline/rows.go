package timeline

/*
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct sqlite3 sqlite3;
typedef struct sqlite3_stmt sqlite3_stmt;

// The SQLite that go-sqlite3 compiles in defines these. They are weak so
// that cgo's own test link of this package, which lacks the driver's
// objects, succeeds; the program's link resolves them, and insertRows
// checks they did.
extern int sqlite3_prepare_v2(sqlite3*, const char*, int, sqlite3_stmt**, const char**) __attribute__((weak));
extern int sqlite3_bind_int64(sqlite3_stmt*, int, int64_t) __attribute__((weak));
extern int sqlite3_bind_text64(sqlite3_stmt*, int, const char*, uint64_t, void(*)(void*), unsigned char) __attribute__((weak));
extern int sqlite3_step(sqlite3_stmt*) __attribute__((weak));
extern int sqlite3_reset(sqlite3_stmt*) __attribute__((weak));
extern int sqlite3_clear_bindings(sqlite3_stmt*) __attribute__((weak));
extern int sqlite3_finalize(sqlite3_stmt*) __attribute__((weak));
extern const char *sqlite3_errmsg(sqlite3*) __attribute__((weak));
extern int sqlite3_bind_parameter_count(sqlite3_stmt*) __attribute__((weak));

static int rows_linked(void) {
	return sqlite3_prepare_v2 && sqlite3_bind_int64 && sqlite3_bind_text64 && sqlite3_step &&
		sqlite3_reset && sqlite3_clear_bindings && sqlite3_finalize && sqlite3_errmsg && sqlite3_bind_parameter_count;
}

// rows_prepare prepares sql and checks it takes ncols parameters; it
// returns an SQLite result code, or -1 for a wrong parameter count.
static int rows_prepare(sqlite3 *db, const char *sql, int ncols, sqlite3_stmt **stmt) {
	int rc = sqlite3_prepare_v2(db, sql, -1, stmt, 0);
	if (rc == 0 && sqlite3_bind_parameter_count(*stmt) != ncols) {
		sqlite3_finalize(*stmt);
		*stmt = 0;
		return -1;
	}
	return rc;
}

// rows_insert binds and steps n rows packed as rowBuffer describes, with
// kinds[i] 'i' or 't' for parameter i+1. The text stays in buf, so it is
// bound without a copy, and the bindings are cleared before returning.
// It returns the SQLite result code of the first failure, or 0, and the
// number of rows inserted in *done.
static int rows_insert(sqlite3_stmt *stmt, const char *kinds, int ncols, const char *buf, int n, int *done) {
	int rc = 0;
	*done = 0;
	for (int r = 0; r < n; r++) {
		for (int c = 0; c < ncols; c++) {
			if (kinds[c] == 'i') {
				int64_t v;
				memcpy(&v, buf, 8);
				buf += 8;
				rc = sqlite3_bind_int64(stmt, c + 1, v);
			} else {
				uint64_t len;
				memcpy(&len, buf, 8);
				buf += 8;
				rc = sqlite3_bind_text64(stmt, c + 1, buf, len, (void(*)(void*))0, 1); // SQLITE_STATIC, SQLITE_UTF8
				buf += len;
			}
			if (rc != 0) {
				break;
			}
		}
		if (rc == 0) {
			rc = sqlite3_step(stmt);
			if (rc == 101) { // SQLITE_DONE
				rc = 0;
			}
		}
		sqlite3_reset(stmt);
		if (rc != 0) {
			break;
		}
		(*done)++;
	}
	sqlite3_clear_bindings(stmt);
	return rc;
}
*/
import "C"

import (
	"encoding/binary"
	"errors"
	"fmt"
	"reflect"
	"unsafe"
)

// rowInserter inserts rows through one prepared statement with a single
// cgo call per batch. Through database/sql's driver each row cost one cgo
// call per value plus a reset and a step, 21 for an event, and those calls
// were most of the writer's time.
type rowInserter struct {
	db    *C.sqlite3
	stmt  *C.sqlite3_stmt
	kinds *C.char // 'i' or 't' per parameter, C memory
	ncols int
	buf   rowBuffer
}

// errNoRawConn means the driver connection does not expose its SQLite
// handle as this package expects; the writer then binds through the driver.
var errNoRawConn = errors.New("timeline: no raw sqlite3 handle")

// newRowInserter prepares sql on the connection of the go-sqlite3 driver
// connection dc. kinds gives each parameter's type: 'i' integer, 't' text.
func newRowInserter(dc any, sql, kinds string) (*rowInserter, error) {
	if C.rows_linked() == 0 {
		return nil, errNoRawConn
	}
	// go-sqlite3 keeps the handle in an unexported field and has no
	// accessor for it. TestRowInserterMatchesDriver fails if it moves.
	v := reflect.ValueOf(dc)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return nil, errNoRawConn
	}
	f := v.Elem().FieldByName("db")
	if !f.IsValid() || f.Kind() != reflect.Pointer || f.Type().Elem().Name() != "_Ctype_struct_sqlite3" || f.IsNil() {
		return nil, errNoRawConn
	}
	ins := &rowInserter{db: (*C.sqlite3)(f.UnsafePointer()), ncols: len(kinds)}
	csql := C.CString(sql)
	defer C.free(unsafe.Pointer(csql))
	switch rc := C.rows_prepare(ins.db, csql, C.int(ins.ncols), &ins.stmt); rc {
	case 0:
	case -1:
		return nil, fmt.Errorf("timeline: prepare insert: %d parameter types given for %q", ins.ncols, sql)
	default:
		return nil, fmt.Errorf("timeline: prepare insert: %s", C.GoString(C.sqlite3_errmsg(ins.db)))
	}
	ins.kinds = C.CString(kinds)
	return ins, nil
}

// insert writes the rows packed in ins.buf and empties it.
func (ins *rowInserter) insert() error {
	n := ins.buf.rows
	if n == 0 {
		return nil
	}
	var done C.int
	rc := C.rows_insert(ins.stmt, ins.kinds, C.int(ins.ncols), (*C.char)(unsafe.Pointer(&ins.buf.b[0])), C.int(n), &done)
	ins.buf.reset()
	if rc != 0 {
		return fmt.Errorf("timeline: insert row %d of a batch of %d: %s (code %d)", int(done)+1, n,
			C.GoString(C.sqlite3_errmsg(ins.db)), int(rc))
	}
	return nil
}

func (ins *rowInserter) close() {
	if ins.stmt != nil {
		C.sqlite3_finalize(ins.stmt)
		ins.stmt = nil
	}
	if ins.kinds != nil {
		C.free(unsafe.Pointer(ins.kinds))
		ins.kinds = nil
	}
}

// rowBuffer packs rows for rows_insert: per value, an integer as 8 bytes
// in the machine's byte order, or a text's length as 8 bytes then its bytes.
type rowBuffer struct {
	b    []byte
	rows int
}

func (r *rowBuffer) int(v int64) { r.b = binary.NativeEndian.AppendUint64(r.b, uint64(v)) }
func (r *rowBuffer) text(s string) {
	r.b = append(binary.NativeEndian.AppendUint64(r.b, uint64(len(s))), s...)
}
func (r *rowBuffer) end()   { r.rows++ }
func (r *rowBuffer) reset() { r.b, r.rows = r.b[:0], 0 }
