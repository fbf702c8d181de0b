package d1

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/edgeplane/edgeplane/pkg/service"
	"modernc.org/sqlite"
)

// D1's snapshot section.
//
// Version 2 (written): the version, the number of databases, then for each
// database (by id) its id, the index of the last entry applied to it, the
// size of its file and the file (an online backup, sqlite3_backup, of a
// read transaction opened between two applies), then the SHA-256 of the
// file. Version 1 (still read): the same without the applied index and the
// hash, the file being an in-memory sqlite3_serialize image.
//
// Taking one stops applies only while a read transaction opens on each
// database (PrepareSnapshot runs on the state machine's goroutine); the
// copies into temporary files and the streaming run later, beside applies
// (WAL mode keeps each transaction's view stable). Restoring streams each
// file into a temporary file, checks its hash, and renames it into place
// once the whole section has been read; a database this node already holds
// at or past the snapshot's applied index is kept as it is, so a restarted
// node replays only the entries it missed.
const (
	snapshotVersion   = 2
	snapshotVersionV1 = 1
	// maxDatabaseID bounds a database id in a snapshot.
	maxDatabaseID = 256
)

// snapshotDir is where a snapshot's backups wait to be streamed: a
// directory inside the data dir (fileIDs lists only its files).
const snapshotDirPattern = ".snapshot-*"

var _ service.SnapshotPreparer = (*Module)(nil)

// Snapshot implements service.StateMachine: a prepared snapshot, written at
// once (the node's state machine calls PrepareSnapshot instead).
func (m *Module) Snapshot(w io.Writer) error {
	s, err := m.PrepareSnapshot()
	if err != nil {
		return err
	}
	defer s.Release()
	if _, err := s.Size(); err != nil {
		return err
	}
	_, err = s.WriteTo(w)
	return err
}

// PrepareSnapshot implements service.SnapshotPreparer: it opens a read
// transaction on every database of the catalog that has a file here, which
// pins the state as of the last applied entry.
func (m *Module) PrepareSnapshot() (service.SectionSnapshot, error) {
	ids, err := m.fileIDs()
	if err != nil {
		return nil, fmt.Errorf("d1 snapshot: %w", err)
	}
	live := m.catalogIDs()
	s := &sectionSnapshot{m: m}
	for _, id := range ids {
		if !live[id] {
			continue
		}
		p, err := m.pin(id)
		if err != nil {
			s.Release()
			return nil, fmt.Errorf("d1 snapshot %s: %w", id, err)
		}
		s.dbs = append(s.dbs, p)
	}
	return s, nil
}

// pinned is one database's read transaction, then its backup file.
type pinned struct {
	id      string
	conn    *sql.Conn
	tx      *sql.Tx
	applied uint64
	file    string
	size    int64
}

// pin opens a read transaction on database id and reads its applied index
// in it (the read starts the transaction's snapshot of the WAL).
func (m *Module) pin(id string) (*pinned, error) {
	d, err := m.database(id)
	if err != nil {
		return nil, err
	}
	d.mu.RLock()
	defer d.mu.RUnlock()
	if d.closed {
		return nil, errClosed
	}
	ctx := context.Background()
	conn, err := d.r.Conn(ctx)
	if err != nil {
		return nil, err
	}
	tx, err := conn.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		_ = conn.Close()
		return nil, err
	}
	var applied int64
	if err := tx.QueryRowContext(ctx, appliedQuery).Scan(&applied); err != nil {
		_ = tx.Rollback()
		_ = conn.Close()
		return nil, err
	}
	return &pinned{id: id, conn: conn, tx: tx, applied: uint64(applied)}, nil
}

// unpin ends the read transaction.
func (p *pinned) unpin() {
	if p.conn == nil {
		return
	}
	_ = p.tx.Rollback()
	_ = p.conn.Close()
	p.conn, p.tx = nil, nil
}

// sectionSnapshot is a prepared D1 section.
type sectionSnapshot struct {
	m    *Module
	dbs  []*pinned
	dir  string // temporary directory of the backups
	size int64
	done bool // backups taken
}

// Size implements service.SectionSnapshot: it backs every pinned database
// up into a temporary file (the read transactions end there) and returns
// the section's size.
func (s *sectionSnapshot) Size() (int64, error) {
	if s.done {
		return s.size, nil
	}
	dir, err := os.MkdirTemp(s.m.dir, snapshotDirPattern)
	if err != nil {
		return 0, fmt.Errorf("d1 snapshot: %w", err)
	}
	s.dir = dir
	size := int64(len(binary.AppendUvarint(binary.AppendUvarint(nil, snapshotVersion), uint64(len(s.dbs)))))
	for i, p := range s.dbs {
		p.file = filepath.Join(dir, fmt.Sprintf("%d.sqlite", i))
		err := backup(p, p.file)
		p.unpin()
		if err != nil {
			return 0, fmt.Errorf("d1 snapshot %s: %w", p.id, err)
		}
		st, err := os.Stat(p.file)
		if err != nil {
			return 0, fmt.Errorf("d1 snapshot %s: %w", p.id, err)
		}
		p.size = st.Size()
		size += int64(len(dbHeader(p.id, p.applied, p.size))) + p.size + sha256.Size
	}
	s.size, s.done = size, true
	return size, nil
}

// backup copies the database p pinned, as its read transaction sees it,
// into a new file at path with SQLite's online backup.
func backup(p *pinned, path string) error {
	return p.conn.Raw(func(dc any) error {
		b, ok := dc.(interface {
			NewBackup(string) (*sqlite.Backup, error)
		})
		if !ok {
			return fmt.Errorf("driver connection %T cannot back up", dc)
		}
		bk, err := b.NewBackup(path)
		if err != nil {
			return err
		}
		// One step copies every page inside the pinned read transaction.
		_, err = bk.Step(-1)
		return errors.Join(err, bk.Finish())
	})
}

// dbHeader is the head of one database in a version 2 section.
func dbHeader(id string, applied uint64, size int64) []byte {
	h := binary.AppendUvarint(nil, uint64(len(id)))
	h = append(h, id...)
	h = binary.AppendUvarint(h, applied)
	return binary.AppendUvarint(h, uint64(size))
}

// WriteTo implements service.SectionSnapshot: it streams the backups.
func (s *sectionSnapshot) WriteTo(w io.Writer) (int64, error) {
	if !s.done {
		return 0, errors.New("d1 snapshot: WriteTo before Size")
	}
	cw := &countWriter{w: w}
	head := binary.AppendUvarint(binary.AppendUvarint(nil, snapshotVersion), uint64(len(s.dbs)))
	if _, err := cw.Write(head); err != nil {
		return cw.n, err
	}
	for _, p := range s.dbs {
		if _, err := cw.Write(dbHeader(p.id, p.applied, p.size)); err != nil {
			return cw.n, err
		}
		f, err := os.Open(p.file)
		if err != nil {
			return cw.n, fmt.Errorf("d1 snapshot %s: %w", p.id, err)
		}
		h := sha256.New()
		n, err := io.Copy(io.MultiWriter(cw, h), f)
		_ = f.Close()
		if err != nil {
			return cw.n, fmt.Errorf("d1 snapshot %s: %w", p.id, err)
		}
		if n != p.size {
			return cw.n, fmt.Errorf("d1 snapshot %s: backup file changed size (%d, then %d bytes)", p.id, p.size, n)
		}
		if _, err := cw.Write(h.Sum(nil)); err != nil {
			return cw.n, err
		}
	}
	return cw.n, nil
}

// Release implements service.SectionSnapshot.
func (s *sectionSnapshot) Release() {
	for _, p := range s.dbs {
		p.unpin()
	}
	if s.dir != "" {
		if err := os.RemoveAll(s.dir); err != nil {
			s.m.log.Warn("remove d1 snapshot files", "dir", s.dir, "err", err)
		}
	}
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// Restore implements service.StateMachine: every database is replaced by
// the snapshot's file unless this node holds it at or past the snapshot's
// applied index; databases the snapshot lacks are removed.
func (m *Module) Restore(r io.Reader) error {
	br := byteReader{r: r}
	version, err := binary.ReadUvarint(&br)
	if err != nil {
		return fmt.Errorf("d1 restore: %w", err)
	}
	switch version {
	case snapshotVersion:
		return m.restore(&br, true)
	case snapshotVersionV1:
		return m.restore(&br, false)
	}
	return fmt.Errorf("d1 restore: snapshot version %d is not one of %d, %d", version, snapshotVersionV1, snapshotVersion)
}

// restored is one database of a section being restored: a verified
// temporary file to rename into place, or none when the local file is kept.
type restored struct {
	id  string
	tmp string
}

// restore reads a section of version 2 (v2) or 1.
func (m *Module) restore(br *byteReader, v2 bool) (err error) {
	count, err := binary.ReadUvarint(br)
	if err != nil {
		return fmt.Errorf("d1 restore: %w", err)
	}
	var got []restored
	defer func() {
		for _, g := range got {
			if g.tmp != "" {
				_ = os.Remove(g.tmp)
			}
		}
	}()
	seen := make(map[string]bool)
	for range count {
		g, err := m.restoreOne(br, v2)
		if err != nil {
			return err
		}
		if seen[g.id] {
			return fmt.Errorf("d1 restore: database %s twice", g.id)
		}
		seen[g.id] = true
		got = append(got, g)
	}
	// The whole section is read and checked: only now change the files.
	ids, err := m.fileIDs()
	if err != nil {
		return fmt.Errorf("d1 restore: %w", err)
	}
	for _, id := range ids {
		if !seen[id] {
			m.drop(id)
		}
	}
	kept := 0
	for i, g := range got {
		if g.tmp == "" {
			kept++
			continue
		}
		// No handle may open the file from its close to the rename (see
		// swap): one would keep the old inode.
		end := m.swap(g.id)
		if m.swapHook != nil {
			m.swapHook(g.id)
		}
		path := dbPath(m.dir, g.id)
		err := removeFiles(path)
		if err == nil {
			err = os.Rename(g.tmp, path)
		}
		end()
		if err != nil {
			return fmt.Errorf("d1 restore %s: %w", g.id, err)
		}
		got[i].tmp = ""
	}
	m.log.Info("restored d1 from a snapshot", "databases", len(got), "kept_local", kept)
	m.metrics.restored.WithLabelValues("kept").Add(float64(kept))
	m.metrics.restored.WithLabelValues("replaced").Add(float64(len(got) - kept))
	m.wake()
	return syncDir(m.dir)
}

// restoreOne reads one database of a section into a temporary file and
// checks it; when this node holds the database at or past the snapshot's
// applied index, the bytes are checked and dropped and the file kept.
func (m *Module) restoreOne(br *byteReader, v2 bool) (restored, error) {
	n, err := binary.ReadUvarint(br)
	if err != nil || n == 0 || n > maxDatabaseID {
		return restored{}, fmt.Errorf("d1 restore: database id length %d: %v", n, err)
	}
	idb := make([]byte, n)
	if _, err := io.ReadFull(br, idb); err != nil {
		return restored{}, fmt.Errorf("d1 restore: %w", err)
	}
	id := string(idb)
	if strings.ContainsAny(id, "/\\.") {
		return restored{}, fmt.Errorf("d1 restore: bad database id %q", id)
	}
	var applied uint64
	if v2 {
		if applied, err = binary.ReadUvarint(br); err != nil {
			return restored{}, fmt.Errorf("d1 restore %s: %w", id, err)
		}
	}
	size, err := binary.ReadUvarint(br)
	if err != nil {
		return restored{}, fmt.Errorf("d1 restore %s: %w", id, err)
	}
	body := io.Reader(io.LimitReader(br, int64(size)))
	var h hash.Hash
	if v2 {
		h = sha256.New()
		body = io.TeeReader(body, h)
	}
	keep := v2 && m.holdsAtLeast(id, applied)
	out := restored{id: id}
	if keep {
		if _, err := io.Copy(io.Discard, body); err != nil {
			return restored{}, fmt.Errorf("d1 restore %s: %w", id, err)
		}
	} else {
		tmp, err := os.CreateTemp(m.dir, "restore-*")
		if err != nil {
			return restored{}, fmt.Errorf("d1 restore %s: %w", id, err)
		}
		out.tmp = tmp.Name()
		copied, err := io.Copy(tmp, body)
		if err == nil && uint64(copied) != size {
			err = io.ErrUnexpectedEOF
		}
		if err = errors.Join(err, tmp.Sync(), tmp.Close()); err != nil {
			_ = os.Remove(out.tmp)
			return restored{}, fmt.Errorf("d1 restore %s: %w", id, err)
		}
	}
	if v2 {
		var sum [sha256.Size]byte
		if _, err := io.ReadFull(br, sum[:]); err != nil || string(sum[:]) != string(h.Sum(nil)) {
			if out.tmp != "" {
				_ = os.Remove(out.tmp)
			}
			return restored{}, fmt.Errorf("d1 restore %s: the file does not match its hash (%v)", id, err)
		}
	}
	return out, nil
}

// holdsAtLeast reports whether this node has database id's file at or past
// applied. Such a file reflects committed entries only, the same ones the
// snapshot's does and more, so it can stay: the log replays from the
// snapshot's index and the database skips what it already applied.
func (m *Module) holdsAtLeast(id string, applied uint64) bool {
	if _, err := os.Stat(dbPath(m.dir, id)); err != nil {
		return false
	}
	d, err := m.database(id)
	if err != nil {
		return false
	}
	return d.applied.Load() >= applied
}

func syncDir(dir string) error {
	f, err := os.Open(filepath.Clean(dir))
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// byteReader adapts an io.Reader to io.ByteReader without reading ahead.
type byteReader struct{ r io.Reader }

func (b *byteReader) ReadByte() (byte, error) {
	var c [1]byte
	_, err := io.ReadFull(b.r, c[:])
	return c[0], err
}

func (b *byteReader) Read(p []byte) (int, error) { return b.r.Read(p) }
