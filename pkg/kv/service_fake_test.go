package kv

import (
	"errors"
	"slices"
	"strings"
	"sync"
	"time"
)

// fakeStorage is an in-memory Storage with the store's contract:
// last-writer-wins Apply, raw Get, live-only sorted List. fail, when set,
// makes Apply fail.
type fakeStorage struct {
	mu      sync.Mutex
	data    map[string]map[string]Entry
	applies int
	fail    error
}

func newFakeStorage() *fakeStorage {
	return &fakeStorage{data: map[string]map[string]Entry{}}
}

func (f *fakeStorage) Apply(entries []Entry) ([]bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return nil, f.fail
	}
	f.applies++
	out := make([]bool, len(entries))
	for i, e := range entries {
		ns := f.data[e.Namespace]
		if ns == nil {
			ns = map[string]Entry{}
			f.data[e.Namespace] = ns
		}
		cur, ok := ns[e.Key]
		if !ok || e.Wins(cur) {
			ns[e.Key] = e
			out[i] = true
		}
	}
	return out, nil
}

func (f *fakeStorage) Get(ns, key string) (Entry, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	e, ok := f.data[ns][key]
	return e, ok, nil
}

func (f *fakeStorage) GetMany(ns string, keys []string) ([]Entry, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Entry
	for _, k := range keys {
		if e, ok := f.data[ns][k]; ok {
			out = append(out, e)
		}
	}
	return out, nil
}

func (f *fakeStorage) List(ns, prefix, startAfter string, limit int, now time.Time) ([]Entry, bool, error) {
	if limit <= 0 {
		return nil, false, errors.New("fake: limit must be positive")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	keys := make([]string, 0, len(f.data[ns]))
	for k, e := range f.data[ns] {
		if strings.HasPrefix(k, prefix) && k > startAfter && e.Live(now) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	more := len(keys) > limit
	if more {
		keys = keys[:limit]
	}
	out := make([]Entry, len(keys))
	for i, k := range keys {
		out[i] = f.data[ns][k]
	}
	return out, more, nil
}

// count returns the number of stored entries of ns, tombstones included.
func (f *fakeStorage) count(ns string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.data[ns])
}

// snapshot returns a copy of everything stored, tombstones included, to
// show that a refused request changed nothing.
func (f *fakeStorage) snapshot() map[string]Entry {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]Entry{}
	for ns, m := range f.data {
		for k, e := range m {
			out[ns+"\x00"+k] = e
		}
	}
	return out
}

// recordingPublisher remembers what was published.
type recordingPublisher struct {
	mu      sync.Mutex
	entries []Entry
}

func (p *recordingPublisher) Publish(entries []Entry) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.entries = append(p.entries, entries...)
}

func (p *recordingPublisher) published() []Entry {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.entries)
}
