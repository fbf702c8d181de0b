package storage

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/cockroachdb/pebble/v2/record"
)

// WALTail describes a write-ahead log whose end could not be read back: a
// torn or truncated last record (a crash mid-write, a file cut short) or
// garbage after the last intact record. Opening the store drops what
// follows Offset; a caller logs it and counts it, so the loss is never
// silent.
type WALTail struct {
	// Store is "kv" or "raft"; File is the damaged file.
	Store string
	File  string
	// Offset is where the last intact record ends; Size the file's size.
	Offset, Size int64
	// Records is how many intact records (pebble batches, Raft log
	// entries) precede the damage; Dropped how many records after them are
	// lost, when that is known (-1 when not).
	Records, Dropped int
	// Reason says what was found after Offset.
	Reason string
}

// DroppedBytes is how many bytes of the file follow the last intact record.
func (t WALTail) DroppedBytes() int64 { return t.Size - t.Offset }

// LogArgs are slog attributes describing the damage.
func (t WALTail) LogArgs() []any {
	var dropped any = t.Dropped
	if t.Dropped < 0 {
		dropped = "unknown"
	}
	return []any{"store", t.Store, "file", t.File, "intact_records", t.Records, "dropped_records", dropped,
		"offset", t.Offset, "dropped_bytes", t.DroppedBytes(), "reason", t.Reason}
}

// pebble's log chunk format (record package): every chunk starts with a
// checksum (4 bytes), a length (2) and an encoding byte; the recyclable and
// WAL-sync encodings (5..12) then carry the low 32 bits of the log number.
const (
	walBlockSize        = 32 << 10
	walLegacyHeader     = 7
	walRecyclableHeader = 11
	walFirstLogNumChunk = 5
	walLastEncoding     = 12
)

// newRecordReader builds a record.Reader; the log number's type lives in
// pebble's internal package, so it is inferred rather than named.
func newRecordReader[N ~uint64](mk func(io.Reader, N) *record.Reader, r io.Reader, num uint64) *record.Reader {
	return mk(r, N(num))
}

// CheckPebbleWAL reads the newest write-ahead log of the pebble database in
// dir (the only one pebble tolerates an unclean end of) and reports a
// damaged tail, or nil when the log ends cleanly. It must run before
// pebble opens the database: pebble replays what it can read, silently
// drops the rest and then retires the file.
//
// Bytes after the last record that are zeros (preallocation) or chunks of
// an older log (pebble recycles log files) are a clean end.
func CheckPebbleWAL(dir string) (*WALTail, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("check kv wal: %w", err)
	}
	var nums []uint64
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".log")
		if !ok || e.IsDir() {
			continue
		}
		if n, err := strconv.ParseUint(name, 10, 64); err == nil {
			nums = append(nums, n)
		}
	}
	if len(nums) == 0 {
		return nil, nil
	}
	num := slices.Max(nums)
	path := filepath.Join(dir, fmt.Sprintf("%06d.log", num))
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("check kv wal: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("check kv wal: %w", err)
	}
	r := newRecordReader(record.NewReader, f, num)
	var (
		good    int64
		records int
		rerr    error
	)
	for {
		rec, err := r.Next()
		if err == nil {
			_, err = io.Copy(io.Discard, rec)
		}
		if err != nil {
			rerr = err
			break
		}
		records++
		good = r.Offset()
	}
	if errors.Is(rerr, io.EOF) {
		return nil, nil
	}
	if !record.IsInvalidRecord(rerr) {
		return nil, fmt.Errorf("check kv wal %s: %w", path, rerr)
	}
	tail, err := readTail(path, good, st.Size())
	if err != nil {
		return nil, err
	}
	if reason := pebbleTailDamage(tail, good, uint32(num)); reason != "" {
		return &WALTail{Store: "kv", File: path, Offset: good, Size: st.Size(), Records: records, Dropped: -1,
			Reason: reason + " (" + rerr.Error() + ")"}, nil
	}
	return nil, nil
}

// readTail reads the file from off to its end (at most a few blocks: a
// tail longer than that is damage whatever it holds).
func readTail(path string, off, size int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	n := min(size-off, 4*walBlockSize)
	buf := make([]byte, max(n, 0))
	if _, err := f.ReadAt(buf, off); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("check wal %s: %w", path, err)
	}
	return buf, nil
}

// pebbleTailDamage classifies the bytes after the last intact record at
// offset off: "" for a clean end, else what is wrong.
func pebbleTailDamage(tail []byte, off int64, logNum uint32) string {
	if allZero(tail) {
		return ""
	}
	// Skip the zero padding at the end of a block a chunk header no longer
	// fits in, as the reader does.
	for len(tail) > 0 {
		left := walBlockSize - int(off%walBlockSize)
		if left >= walRecyclableHeader {
			break
		}
		skip := min(left, len(tail))
		if !allZero(tail[:skip]) {
			return "garbage in a block's padding"
		}
		tail, off = tail[skip:], off+int64(skip)
	}
	if allZero(tail) {
		return ""
	}
	if len(tail) < walLegacyHeader {
		return "truncated chunk header"
	}
	enc := tail[6]
	if enc >= walFirstLogNumChunk && enc <= walLastEncoding {
		if len(tail) < walRecyclableHeader {
			return "truncated chunk header"
		}
		if n := binary.LittleEndian.Uint32(tail[7:11]); n != logNum {
			return "" // a recycled file's older content
		}
	}
	return "torn or truncated record after the last intact one"
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
