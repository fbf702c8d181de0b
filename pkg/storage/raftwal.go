package storage

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// raft-wal's on-disk constants (github.com/hashicorp/raft-wal/segment and
// metadb), read here to check files before raft-wal maps them.
const (
	raftSegmentSuffix   = ".wal"
	raftSegmentSize     = 64 << 20 // raft-wal's DefaultSegmentSize: files are preallocated to it
	raftFileHeaderLen   = 32
	raftFrameHeaderLen  = 8
	raftFrameEntry      = 1
	raftFrameIndex      = 2
	raftFrameCommit     = 3
	raftSegmentMagic    = 0x58eb6b0d
	raftMetaFileName    = "wal-meta.db"
	boltMagic           = 0xED0CDAED
	boltVersion         = 2
	boltPageHeaderLen   = 16
	boltMetaChecksumOff = 56 // bytes of the meta struct the checksum covers
	boltMinPages        = 4  // two meta pages, a freelist, a root leaf
)

// CheckRaftMeta validates raft-wal's bolt meta file in walDir before it is
// opened: bolt memory-maps it, and a truncated or damaged file would kill
// the process with SIGBUS or a nil dereference instead of an error. A
// missing file is fine (a new log).
func CheckRaftMeta(walDir string) error {
	path := filepath.Join(walDir, raftMetaFileName)
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("raft log meta file: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("raft log meta file: %w", err)
	}
	damaged := func(format string, args ...any) error {
		return fmt.Errorf("raft log meta file %s is damaged: %s; restore the raft directory from a backup or, "+
			"if other voters hold the log, move it away and restart the node to rejoin (its peers send it the log)",
			path, fmt.Sprintf(format, args...))
	}
	size := st.Size()
	if size == 0 {
		return damaged("it is empty")
	}
	var best *boltMeta
	var reasons []string
	for _, off := range []int64{0, int64(os.Getpagesize())} {
		m, err := readBoltMeta(f, off)
		if err != nil {
			reasons = append(reasons, fmt.Sprintf("meta page at %d: %v", off, err))
			continue
		}
		if best == nil || m.txid > best.txid {
			best = m
		}
	}
	if best == nil {
		return damaged("%s", strings.Join(reasons, "; "))
	}
	if need := int64(best.pgid) * int64(best.pageSize); size < need || best.pgid < boltMinPages {
		return damaged("it is %d bytes but its meta page says it holds %d pages of %d bytes (truncated)",
			size, best.pgid, best.pageSize)
	}
	return nil
}

type boltMeta struct {
	pageSize uint32
	pgid     uint64
	txid     uint64
}

func readBoltMeta(f *os.File, pageOff int64) (*boltMeta, error) {
	var b [boltPageHeaderLen + 64]byte
	if _, err := f.ReadAt(b[:], pageOff); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("file ends before it")
		}
		return nil, err
	}
	m := b[boltPageHeaderLen:]
	le := binary.LittleEndian
	if le.Uint32(m[0:4]) != boltMagic {
		return nil, errors.New("bad magic")
	}
	if le.Uint32(m[4:8]) != boltVersion {
		return nil, fmt.Errorf("unknown version %d", le.Uint32(m[4:8]))
	}
	if sum := le.Uint64(m[56:64]); sum != 0 {
		h := fnv.New64a()
		_, _ = h.Write(m[:boltMetaChecksumOff])
		if h.Sum64() != sum {
			return nil, errors.New("checksum mismatch")
		}
	}
	ps := le.Uint32(m[8:12])
	if ps < 512 || ps > 1<<16 || ps&(ps-1) != 0 {
		return nil, fmt.Errorf("implausible page size %d", ps)
	}
	return &boltMeta{pageSize: ps, pgid: le.Uint64(m[40:48]), txid: le.Uint64(m[48:56])}, nil
}

// CheckRaftWAL reads the tail segment of the raft-wal log in walDir (the
// newest *.wal file, the only one still being appended to) and reports a
// damaged end, or nil when it ends cleanly. raft-wal recovers to the last
// commit frame it can read and drops the rest without a word; a segment
// file is preallocated to 64 MiB, so one that ends before that inside its
// data was cut short.
func CheckRaftWAL(walDir string) (*WALTail, error) {
	entries, err := os.ReadDir(walDir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("check raft wal: %w", err)
	}
	var names []string
	for _, e := range entries {
		if !e.IsDir() && strings.HasSuffix(e.Name(), raftSegmentSuffix) {
			names = append(names, e.Name())
		}
	}
	if len(names) == 0 {
		return nil, nil
	}
	path := filepath.Join(walDir, slices.Max(names)) // zero-padded base index: lexical is numeric
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("check raft wal: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("check raft wal: %w", err)
	}
	size := st.Size()
	var hdr [raftFileHeaderLen]byte
	if n, err := f.ReadAt(hdr[:], 0); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("check raft wal %s: %w", path, err)
	} else if n < raftFileHeaderLen || binary.LittleEndian.Uint32(hdr[0:4]) != raftSegmentMagic {
		if size == 0 || allZero(hdr[:n]) {
			return nil, nil // nothing committed yet
		}
		return &WALTail{Store: "raft", File: path, Size: size, Dropped: -1,
			Reason: "segment header missing or damaged: every entry of the segment is lost"}, nil
	}
	var (
		off         = int64(raftFileHeaderLen)
		commitEnd   = int64(0)
		committed   = 0
		nEntries    = 0
		reason      string
		fh          [raftFrameHeaderLen]byte
		endedInData bool
	)
	for {
		n, err := f.ReadAt(fh[:], off)
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("check raft wal %s: %w", path, err)
		}
		if n < raftFrameHeaderLen {
			endedInData = n > 0 || off == size
			if n > 0 {
				reason = "frame header cut short"
			}
			break
		}
		typ := fh[0]
		if typ == 0 {
			if !allZero(fh[:]) {
				reason = "garbage after the last commit"
			}
			break
		}
		if typ > raftFrameCommit {
			reason = fmt.Sprintf("garbage after the last commit (frame type %d)", typ)
			break
		}
		next := off + raftFrameHeaderLen
		if typ != raftFrameCommit {
			l := int64(binary.LittleEndian.Uint32(fh[4:8]))
			next += l + (raftFrameHeaderLen-l%raftFrameHeaderLen)%raftFrameHeaderLen
		}
		if next > size {
			endedInData = true
			reason = "last frame cut short"
			if typ == raftFrameEntry {
				nEntries++ // an entry whose end is gone: lost too
			}
			break
		}
		switch typ {
		case raftFrameEntry:
			nEntries++
		case raftFrameCommit:
			commitEnd, committed = next, nEntries
		}
		off = next
		if off == size {
			endedInData = true
			break
		}
	}
	if commitEnd == 0 {
		commitEnd = raftFileHeaderLen
	}
	dropped := nEntries - committed
	switch {
	case reason != "":
	case dropped > 0:
		reason = "entries after the last commit frame (a torn write)"
	case endedInData && size < raftSegmentSize:
		reason = fmt.Sprintf("file cut short: %d bytes where segments are preallocated to %d", size, raftSegmentSize)
		dropped = -1 // whole entries may be gone with the cut; how many is unknown
	default:
		return nil, nil
	}
	return &WALTail{Store: "raft", File: path, Offset: commitEnd, Size: size, Records: committed,
		Dropped: dropped, Reason: reason}, nil
}
