package d1

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"modernc.org/sqlite"
)

// Deterministic writes. A write command carries the proposer's clock (Now,
// Unix milliseconds) and a random seed; every replica applies it on a
// connection of its own driver whose random(), randomblob() and date and
// time functions read those instead of the system's. The CURRENT_* keywords
// are rewritten to date function calls before the command is proposed
// (rewriteCurrent), and date modifiers that depend on the node's time zone
// are refused, so the same entry gives the same database on every replica.

// applyEnv is what the deterministic functions read during one apply.
type applyEnv struct {
	now string // "YYYY-MM-DD HH:MM:SS.SSS", UTC
	rng *rand.Rand
}

// writeDriver is a private modernc driver whose connections carry the
// deterministic function set. One exists per Module: the Raft apply loop is
// serial, so the module's current env is read without races from its own
// connections only.
type writeDriver struct {
	drv    *sqlite.Driver
	mu     sync.Mutex
	env    *applyEnv
	helper *sql.DB // builtin date functions, for the overrides to call
	budget *stepBudget
}

// dateFuncs are SQLite's date and time functions.
var dateFuncs = []string{"date", "time", "datetime", "julianday", "unixepoch", "strftime", "timediff"}

// newWriteDriver returns the driver of a module's write connections, whose
// commands are bounded by maxSteps SQLite instructions each.
func newWriteDriver(maxSteps int64) (*writeDriver, error) {
	helper, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		return nil, err
	}
	helper.SetMaxOpenConns(4)
	wd := &writeDriver{drv: &sqlite.Driver{}, helper: helper, budget: newStepBudget(maxSteps)}
	if err := wd.drv.RegisterFunction("random", &sqlite.FunctionImpl{NArgs: 0, Scalar: wd.random}); err != nil {
		return nil, err
	}
	if err := wd.drv.RegisterFunction("randomblob", &sqlite.FunctionImpl{NArgs: 1, Scalar: wd.randomblob}); err != nil {
		return nil, err
	}
	for _, name := range dateFuncs {
		if err := wd.drv.RegisterFunction(name, &sqlite.FunctionImpl{NArgs: -1, Scalar: wd.dateFunc(name)}); err != nil {
			return nil, err
		}
	}
	return wd, nil
}

func (wd *writeDriver) close() error { return wd.helper.Close() }

// setEnv installs the env of the command being applied (nil after it).
func (wd *writeDriver) setEnv(e *applyEnv) {
	wd.mu.Lock()
	wd.env = e
	wd.mu.Unlock()
}

func (wd *writeDriver) current() (*applyEnv, error) {
	wd.mu.Lock()
	defer wd.mu.Unlock()
	if wd.env == nil {
		return nil, errors.New("non-deterministic function outside a replicated write")
	}
	return wd.env, nil
}

// connector opens connections of the write driver to dsn.
func (wd *writeDriver) connector(dsn string) driver.Connector {
	return writeConnector{wd: wd, dsn: dsn}
}

type writeConnector struct {
	wd  *writeDriver
	dsn string
}

func (c writeConnector) Connect(context.Context) (driver.Conn, error) { return c.wd.drv.Open(c.dsn) }
func (c writeConnector) Driver() driver.Driver                        { return c.wd.drv }

func (wd *writeDriver) random(*sqlite.FunctionContext, []driver.Value) (driver.Value, error) {
	env, err := wd.current()
	if err != nil {
		return nil, err
	}
	return int64(env.rng.Uint64()), nil
}

func (wd *writeDriver) randomblob(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
	env, err := wd.current()
	if err != nil {
		return nil, err
	}
	n, _ := args[0].(int64)
	if f, ok := args[0].(float64); ok {
		n = int64(f)
	}
	if n < 1 {
		n = 1
	}
	if n > MaxValueBytes {
		return nil, errors.New("string or blob too big")
	}
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(env.rng.Uint32())
	}
	return b, nil
}

// dateFunc wraps one builtin date function: 'now' (and a missing time
// value) become the command's clock; 'localtime' and 'utc', which depend on
// the node's time zone, are refused.
func (wd *writeDriver) dateFunc(name string) func(*sqlite.FunctionContext, []driver.Value) (driver.Value, error) {
	// The index of the first time value: strftime's is after the format.
	first := 0
	if name == "strftime" {
		first = 1
	}
	return func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
		env, err := wd.current()
		if err != nil {
			return nil, err
		}
		args = append([]driver.Value(nil), args...)
		if len(args) <= first {
			args = append(args, env.now)
		}
		for i, a := range args {
			s, ok := a.(string)
			if !ok || i < first {
				continue
			}
			switch strings.ToLower(strings.TrimSpace(s)) {
			case "now":
				args[i] = env.now
			case "localtime", "utc":
				return nil, fmt.Errorf("%s: the %q modifier depends on the node's time zone and is not allowed in a write", name, s)
			}
		}
		q := "SELECT " + name + "(" + strings.TrimSuffix(strings.Repeat("?,", len(args)), ",") + ")"
		vals := make([]any, len(args))
		for i, a := range args {
			vals[i] = a
		}
		var out any
		if err := wd.helper.QueryRow(q, vals...).Scan(&out); err != nil {
			return nil, err
		}
		return out, nil
	}
}

// newEnv builds the env of a command from its clock and seed.
func newEnv(nowMillis int64, seed uint64, index uint64) *applyEnv {
	t := time.UnixMilli(nowMillis).UTC()
	return &applyEnv{now: t.Format("2006-01-02 15:04:05.000"), rng: rand.New(rand.NewPCG(seed, index))}
}
