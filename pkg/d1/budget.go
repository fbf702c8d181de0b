package d1

import (
	"database/sql"
	"fmt"
	"reflect"
	"unsafe"

	"modernc.org/libc"
	sqlite3 "modernc.org/sqlite/lib"
)

// The write budget. A write runs inside the Raft apply loop: one that ran
// for ever would stall every database on every node. A wall-clock limit
// would not do: a loaded replica would abort a write that a quick one
// committed, and replicas would differ. So a write is bounded by the
// number of SQLite virtual machine instructions its statements execute,
// which is the same on every replica (same SQLite, same statements, same
// state): SQLite's progress handler, called at every instruction while the
// command's statements run, counts them, and past the budget it makes the
// statement fail with SQLITE_INTERRUPT. The command then rolls back as any
// failing command does (SQLite rolls the whole transaction back on an
// interrupt; the batch replays its earlier commands, see batch.go).
//
// The handler is called at every instruction (not every N): SQLite starts
// counting N from where a prepared statement's lifetime counter stands,
// and the write connection caches prepared statements, so with N > 1 when
// the handler fires would depend on each node's history.

// DefaultWriteSteps is the default budget of one write command: about 30 s
// of work on the project's 2-core VM (TestRunawayWriteStops measured 12
// million instructions a second there, with the handler installed, on a
// loaded machine).
const DefaultWriteSteps = 400_000_000

// stepBudget counts the instructions of the command being applied. It is
// used by the apply loop only.
type stepBudget struct {
	limit    int64
	used     int64
	counting bool // only user statements count, not the apply loop's own
	exceeded bool
	// progress is the handler SQLite calls; held here so that the closure
	// SQLite holds the address of stays alive.
	progress func(*libc.TLS, uintptr) int32
}

func newStepBudget(limit int64) *stepBudget {
	b := &stepBudget{limit: limit}
	b.progress = func(*libc.TLS, uintptr) int32 {
		if !b.counting {
			return 0
		}
		b.used++
		if b.used > b.limit {
			b.exceeded = true
			return 1
		}
		return 0
	}
	return b
}

// start begins a command's count.
func (b *stepBudget) start() { b.used, b.exceeded = 0, false }

// install sets b's handler on the connection's SQLite handle. The driver
// does not expose the handle, so it is read from the driver connection's
// fields (db, tls) by reflection: an unknown driver layout is an error at
// open, never a silent lack of a limit. The driver sets its own handler
// only for calls with a cancellable context, which the apply loop never
// passes; install is still called at the start of every batch.
func (b *stepBudget) install(c *sql.Conn) error {
	return c.Raw(func(dc any) error {
		v := reflect.ValueOf(dc)
		if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
			return fmt.Errorf("d1 write budget: driver connection %T is not a struct pointer", dc)
		}
		db, tls := v.Elem().FieldByName("db"), v.Elem().FieldByName("tls")
		if !db.IsValid() || db.Kind() != reflect.Uintptr || !tls.IsValid() || tls.Kind() != reflect.Pointer ||
			tls.Type().Elem() != reflect.TypeFor[libc.TLS]() || db.Uint() == 0 || tls.IsNil() {
			return fmt.Errorf("d1 write budget: driver connection %T lacks the SQLite handle fields this version expects", dc)
		}
		fn := *(*uintptr)(unsafe.Pointer(&b.progress))
		sqlite3.Xsqlite3_progress_handler((*libc.TLS)(tls.UnsafePointer()), uintptr(db.Uint()), 1, fn, 0)
		return nil
	})
}
