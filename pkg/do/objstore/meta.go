package objstore

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
)

// Ballot identifies one writer term of an object: ordered by Counter, then
// by Node. The zero Ballot is lower than every other.
type Ballot struct {
	Counter uint64
	Node    string
}

// Less reports whether b orders before o.
func (b Ballot) Less(o Ballot) bool {
	if b.Counter != o.Counter {
		return b.Counter < o.Counter
	}
	return b.Node < o.Node
}

// IsZero reports whether b is the zero ballot.
func (b Ballot) IsZero() bool { return b.Counter == 0 && b.Node == "" }

// String formats b as counter.node.
func (b Ballot) String() string { return fmt.Sprintf("%d.%s", b.Counter, b.Node) }

func maxBallot(a, b Ballot) Ballot {
	if a.Less(b) {
		return b
	}
	return a
}

// Meta is what a node holds of one object besides its entries.
type Meta struct {
	// Promised is the highest ballot this node promised.
	Promised Ballot
	// Accepted is the ballot the state was written under; zero: no state.
	Accepted Ballot
	// Seq counts the writes applied to the state.
	Seq uint64
	// Alarm is the alarm time, ms since the epoch; 0 none.
	Alarm int64
	// Size is the bytes of keys plus values of the entries.
	Size int64
	// Replicas is the replica set recorded with the state.
	Replicas []string
}

// newer reports whether m's state is newer than o's: higher accepted
// ballot, then higher sequence.
func (m Meta) newer(o Meta) bool {
	if m.Accepted != o.Accepted {
		return o.Accepted.Less(m.Accepted)
	}
	return m.Seq > o.Seq
}

// Keyspace: one byte tag, then
//
//	'e' uvarint(len(obj)) obj key   an entry (value: the value bytes)
//	'm' obj                         the object's Meta (metaVersion encoding)
//
// Entries of one object share a prefix, so they sort by key bytes.
const (
	entryTag    = 'e'
	metaTag     = 'm'
	metaVersion = 1
)

func entryPrefix(obj string) []byte {
	p := make([]byte, 0, 1+binary.MaxVarintLen64+len(obj)+32)
	p = append(p, entryTag)
	p = binary.AppendUvarint(p, uint64(len(obj)))
	return append(p, obj...)
}

func metaKey(obj string) []byte { return append([]byte{metaTag}, obj...) }

// prefixEnd is the first key past every key starting with p (p never ends
// in 0xff here: it ends in an object id).
func prefixEnd(p []byte) []byte {
	end := append([]byte(nil), p...)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

func appendBallot(b []byte, x Ballot) []byte {
	b = binary.AppendUvarint(b, x.Counter)
	b = binary.AppendUvarint(b, uint64(len(x.Node)))
	return append(b, x.Node...)
}

func (m Meta) encode() []byte {
	b := []byte{metaVersion}
	b = appendBallot(b, m.Promised)
	b = appendBallot(b, m.Accepted)
	b = binary.AppendUvarint(b, m.Seq)
	b = binary.AppendVarint(b, m.Alarm)
	b = binary.AppendVarint(b, m.Size)
	b = binary.AppendUvarint(b, uint64(len(m.Replicas)))
	for _, r := range m.Replicas {
		b = binary.AppendUvarint(b, uint64(len(r)))
		b = append(b, r...)
	}
	return b
}

var errBadMeta = errors.New("damaged metadata")

type metaReader struct {
	b   []byte
	err error
}

func (r *metaReader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = errBadMeta
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *metaReader) varint() int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.err = errBadMeta
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *metaReader) str() string {
	n := r.uvarint()
	if r.err != nil || n > uint64(len(r.b)) {
		r.err = errBadMeta
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}

func (r *metaReader) ballot() Ballot { return Ballot{Counter: r.uvarint(), Node: r.str()} }

func decodeMeta(b []byte) (Meta, error) {
	if len(b) == 0 || b[0] != metaVersion {
		return Meta{}, fmt.Errorf("%w: version", errBadMeta)
	}
	r := &metaReader{b: b[1:]}
	m := Meta{Promised: r.ballot(), Accepted: r.ballot(), Seq: r.uvarint(), Alarm: r.varint(), Size: r.varint()}
	n := r.uvarint()
	if n > MaxReplicas {
		return Meta{}, fmt.Errorf("%w: %d replicas", errBadMeta, n)
	}
	for range n {
		m.Replicas = append(m.Replicas, r.str())
	}
	if r.err != nil {
		return Meta{}, r.err
	}
	return m, nil
}

// splitObj splits "nsID/objectID".
func splitObj(obj string) (ns, id string, ok bool) {
	return strings.Cut(obj, "/")
}
