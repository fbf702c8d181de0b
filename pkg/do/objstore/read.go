package objstore

import (
	"bytes"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
)

// List returns obj's entries selected by opts (see ListOptions), read from
// this node's copy.
func (s *Store) List(obj string, opts ListOptions) ([]Entry, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	done, err := s.enter()
	if err != nil {
		return nil, err
	}
	defer done()
	objPrefix := entryPrefix(obj)
	full := func(k string) []byte { return append(objPrefix[:len(objPrefix):len(objPrefix)], k...) }
	lower := full(opts.Start)
	if opts.StartAfter != "" {
		// The first key after StartAfter is StartAfter + "\x00".
		lower = append(full(opts.StartAfter), 0)
	}
	upper := prefixEnd(objPrefix)
	if opts.End != "" {
		upper = full(opts.End)
	}
	if opts.Prefix != "" {
		if p := full(opts.Prefix); bytes.Compare(p, lower) > 0 {
			lower = p
		}
		if pe := prefixEnd(full(opts.Prefix)); pe != nil && bytes.Compare(pe, upper) < 0 {
			upper = pe
		}
	}
	if bytes.Compare(lower, upper) >= 0 {
		return nil, nil
	}
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return nil, fmt.Errorf("objstore list %q: %w", obj, err)
	}
	first, next := it.First, it.Next
	if opts.Reverse {
		first, next = it.Last, it.Prev
	}
	var out []Entry
	for ok := first(); ok && (opts.Limit == 0 || len(out) < opts.Limit); ok = next() {
		out = append(out, Entry{Key: string(it.Key()[len(objPrefix):]), Value: bytes.Clone(it.Value())})
	}
	if err := it.Error(); err != nil {
		_ = it.Close()
		return nil, fmt.Errorf("objstore list %q: %w", obj, err)
	}
	if err := it.Close(); err != nil {
		return nil, fmt.Errorf("objstore list %q: %w", obj, err)
	}
	return out, nil
}

// Get returns the values of obj's present keys among keys, read from this
// node's copy.
func (s *Store) Get(obj string, keys []string) (map[string][]byte, error) {
	if len(keys) > MaxKeysPerCall {
		return nil, fmt.Errorf("objstore get: %d keys, over %d: %w", len(keys), MaxKeysPerCall, ErrInvalid)
	}
	for _, k := range keys {
		if err := ValidateKey(k); err != nil {
			return nil, err
		}
	}
	done, err := s.enter()
	if err != nil {
		return nil, err
	}
	defer done()
	return s.get(obj, keys)
}
