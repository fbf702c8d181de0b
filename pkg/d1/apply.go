package d1

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/edgeplane/edgeplane/pkg/replication"
	"modernc.org/sqlite"
)

// CommandType implements service.StateMachine.
func (m *Module) CommandType() uint8 { return CommandType }

// ValidateCommand implements service.StateMachine.
func (m *Module) ValidateCommand(payload []byte, _ string) error {
	_, err := decodeCommand(payload)
	return err
}

// ApplyCommand implements service.StateMachine: one command applied as a
// batch of one (see ApplyCommands): one SQLite transaction; a failing
// statement rolls all of the command back, and only the database's applied
// index and clock are written then, the same way on every replica.
func (m *Module) ApplyCommand(index uint64, payload []byte) ([]byte, error) {
	r := m.ApplyCommands([]replication.Entry{{Index: index, Payload: payload}})[0]
	return r.Data, r.Err
}

// fatal reports errors that mean the disk failed, not the SQL.
func (m *Module) fatal(err error) {
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case 10, 11, 13, 26: // SQLITE_IOERR, CORRUPT, FULL (the disk, not max_page_count), NOTADB
			if se.Code()&0xff == 13 && strings.Contains(se.Error(), "database or disk is full") {
				return // max_page_count reached: the SQL error of a full database
			}
			if m.deps.OnFatal != nil {
				m.deps.OnFatal(fmt.Errorf("d1: %w", err))
			}
		}
	}
}

// sizeQuery is the database's size in bytes.
const sizeQuery = "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()"

// size is the database's size in bytes, from the write connection: the
// apply loop only.
func (d *database) size(ctx context.Context) int64 {
	var n int64
	if st, err := d.wcache.get(ctx, sizeQuery); err == nil {
		_ = st.QueryRowContext(ctx).Scan(&n)
	}
	return n
}

// readSize is the size after the last apply, for requests (which must not
// use the apply loop's connection).
func (d *database) readSize(context.Context) int64 { return d.sizeBytes.Load() }
