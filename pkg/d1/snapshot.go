package d1

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// snapshotVersion is the version of D1's snapshot section.
const snapshotVersion = 1

// Snapshot implements service.StateMachine: the version, then for each
// database of the catalog (by id) its id and a consistent image of its file
// (sqlite3_serialize on the write connection, between two applies).
func (m *Module) Snapshot(w io.Writer) error {
	ids, err := m.fileIDs()
	if err != nil {
		return err
	}
	live := m.catalogIDs()
	var keep []string
	for _, id := range ids {
		if live[id] {
			keep = append(keep, id)
		}
	}
	buf := binary.AppendUvarint(nil, snapshotVersion)
	buf = binary.AppendUvarint(buf, uint64(len(keep)))
	if _, err := w.Write(buf); err != nil {
		return err
	}
	for _, id := range keep {
		d, err := m.database(id)
		if err != nil {
			return err
		}
		image, err := d.serialize()
		if err != nil {
			return fmt.Errorf("snapshot d1 database %s: %w", id, err)
		}
		head := binary.AppendUvarint(nil, uint64(len(id)))
		head = append(head, id...)
		head = binary.AppendUvarint(head, uint64(len(image)))
		if _, err := w.Write(head); err != nil {
			return err
		}
		if _, err := w.Write(image); err != nil {
			return err
		}
	}
	return nil
}

func (d *database) serialize() ([]byte, error) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	var image []byte
	err := d.wc.Raw(func(dc any) error {
		s, ok := dc.(interface{ Serialize() ([]byte, error) })
		if !ok {
			return fmt.Errorf("driver connection %T cannot serialize", dc)
		}
		var err error
		image, err = s.Serialize()
		return err
	})
	return image, err
}

// Restore implements service.StateMachine: every database is replaced by
// the snapshot's image; databases it lacks are removed.
func (m *Module) Restore(r io.Reader) error {
	br := byteReader{r: r}
	version, err := binary.ReadUvarint(&br)
	if err != nil {
		return fmt.Errorf("d1 restore: %w", err)
	}
	if version != snapshotVersion {
		return fmt.Errorf("d1 restore: snapshot version %d is not %d", version, snapshotVersion)
	}
	count, err := binary.ReadUvarint(&br)
	if err != nil {
		return fmt.Errorf("d1 restore: %w", err)
	}
	ids, err := m.fileIDs()
	if err != nil {
		return err
	}
	for _, id := range ids {
		m.drop(id)
	}
	for range count {
		n, err := binary.ReadUvarint(&br)
		if err != nil || n > 256 {
			return fmt.Errorf("d1 restore: database id: %v", err)
		}
		id := make([]byte, n)
		if _, err := io.ReadFull(&br, id); err != nil {
			return fmt.Errorf("d1 restore: %w", err)
		}
		if strings.ContainsAny(string(id), "/\\.") || len(id) == 0 {
			return fmt.Errorf("d1 restore: bad database id %q", id)
		}
		size, err := binary.ReadUvarint(&br)
		if err != nil {
			return fmt.Errorf("d1 restore: %w", err)
		}
		path := dbPath(m.dir, string(id))
		tmp, err := os.CreateTemp(m.dir, "restore-*")
		if err != nil {
			return err
		}
		_, err = io.CopyN(tmp, &br, int64(size))
		err = errors.Join(err, tmp.Sync(), tmp.Close())
		if err == nil {
			err = os.Rename(tmp.Name(), path)
		}
		if err != nil {
			_ = os.Remove(tmp.Name())
			return fmt.Errorf("d1 restore %s: %w", id, err)
		}
	}
	m.notify()
	return syncDir(m.dir)
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
