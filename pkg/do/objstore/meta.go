package objstore

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
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
	// Pending lists the promises above Accepted (Promised among them), each
	// with the replica set its holder opened the object with: such a
	// holder may have written to its set before it failed, so a new owner
	// must cover those sets too. Accepting a state clears it. At most
	// maxPending, the newest kept.
	Pending []Promise
}

// Promise is one ballot a node promised and its holder's replica set.
type Promise struct {
	Ballot   Ballot
	Replicas []string
}

// maxPending bounds Meta.Pending: distinct replica sets of owners that
// opened the object one after another without any state accepted here.
const maxPending = 8

// withPromise returns pending with (b, replicas) added: an entry for the
// same replica set is replaced, the oldest dropped past maxPending.
func withPromise(pending []Promise, b Ballot, replicas []string) []Promise {
	out := make([]Promise, 0, len(pending)+1)
	for _, p := range pending {
		if !slices.Equal(p.Replicas, replicas) {
			out = append(out, p)
		}
	}
	out = append(out, Promise{Ballot: b, Replicas: replicas})
	if len(out) > maxPending {
		out = out[len(out)-maxPending:]
	}
	return out
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
	b = appendSet(b, m.Replicas)
	b = binary.AppendUvarint(b, uint64(len(m.Pending)))
	for _, p := range m.Pending {
		b = appendBallot(b, p.Ballot)
		b = appendSet(b, p.Replicas)
	}
	return b
}

func appendSet(b []byte, set []string) []byte {
	b = binary.AppendUvarint(b, uint64(len(set)))
	for _, r := range set {
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
	m.Replicas = r.set()
	n := r.uvarint()
	if n > maxPending {
		return Meta{}, fmt.Errorf("%w: %d pending promises", errBadMeta, n)
	}
	for range n {
		m.Pending = append(m.Pending, Promise{Ballot: r.ballot(), Replicas: r.set()})
	}
	if r.err != nil {
		return Meta{}, r.err
	}
	return m, nil
}

func (r *metaReader) set() []string {
	n := r.uvarint()
	if n > MaxReplicas {
		r.err = fmt.Errorf("%w: %d replicas", errBadMeta, n)
		return nil
	}
	var out []string
	for range n {
		out = append(out, r.str())
	}
	return out
}

// splitObj splits "nsID/objectID".
func splitObj(obj string) (ns, id string, ok bool) {
	return strings.Cut(obj, "/")
}
