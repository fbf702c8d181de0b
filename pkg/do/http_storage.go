package do

import (
	"encoding/json"
	"maps"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/edgeplane/edgeplane/pkg/api"
	"github.com/edgeplane/edgeplane/pkg/do/objstore"
	"github.com/edgeplane/edgeplane/pkg/service"
)

// storageRoutes are the storage API: get, put, delete, list, deleteAll and
// incr.
func (m *Module) storageRoutes() []service.Route {
	return slices.Concat(
		m.objectRoute("POST", "/storage/get", "get", 0, service.AccessRead, m.storageGet),
		m.objectRoute("POST", "/storage/put", "put", MaxWriteBody, service.AccessWrite, m.storagePut),
		m.objectRoute("POST", "/storage/delete", "delete", 0, service.AccessWrite, m.storageDelete),
		m.objectRoute("GET", "/storage", "list", 0, service.AccessRead, m.storageList),
		m.objectRoute("DELETE", "/storage", "delete_all", 0, service.AccessWrite, m.storageDeleteAll),
		m.objectRoute("POST", "/storage/incr", "incr", 0, service.AccessWrite, m.storageIncr),
	)
}

type keysBody struct {
	Keys []string `json:"keys"`
}

// rawEntries turns stored values (JSON bytes) into an answer's map.
func rawEntries(vals map[string][]byte) map[string]json.RawMessage {
	out := make(map[string]json.RawMessage, len(vals))
	for k, v := range vals {
		out[k] = json.RawMessage(v)
	}
	return out
}

func (m *Module) storageGet(w http.ResponseWriter, r *http.Request, or objectRequest) {
	var body keysBody
	if err := decodeBody(r, &body); err != nil {
		api.WriteFailure(w, r, err)
		return
	}
	if err := checkKeys(body.Keys); err != nil {
		api.WriteFailure(w, r, err)
		return
	}
	m.run(w, r, or, func(o *objstore.Object) (map[string]any, error) {
		vals, err := o.Get(body.Keys)
		if err != nil {
			return nil, err
		}
		return map[string]any{"entries": rawEntries(vals)}, nil
	})
}

func (m *Module) storagePut(w http.ResponseWriter, r *http.Request, or objectRequest) {
	var body struct {
		Entries map[string]json.RawMessage `json:"entries"`
	}
	if err := decodeBody(r, &body); err != nil {
		api.WriteFailure(w, r, err)
		return
	}
	if err := checkCount("entries", len(body.Entries)); err != nil {
		api.WriteFailure(w, r, err)
		return
	}
	ops := make([]objstore.Op, 0, len(body.Entries))
	for _, k := range slices.Sorted(maps.Keys(body.Entries)) {
		if err := checkKey(k); err != nil {
			api.WriteFailure(w, r, err)
			return
		}
		v, err := value(k, body.Entries[k])
		if err != nil {
			api.WriteFailure(w, r, err)
			return
		}
		ops = append(ops, objstore.Op{Kind: objstore.OpPut, Key: k, Value: v})
	}
	m.run(w, r, or, func(o *objstore.Object) (map[string]any, error) {
		return nil, o.Commit(r.Context(), ops)
	})
}

func (m *Module) storageDelete(w http.ResponseWriter, r *http.Request, or objectRequest) {
	var body keysBody
	if err := decodeBody(r, &body); err != nil {
		api.WriteFailure(w, r, err)
		return
	}
	if err := checkKeys(body.Keys); err != nil {
		api.WriteFailure(w, r, err)
		return
	}
	m.run(w, r, or, func(o *objstore.Object) (map[string]any, error) {
		present, err := o.Get(body.Keys)
		if err != nil {
			return nil, err
		}
		if len(present) > 0 {
			ops := make([]objstore.Op, 0, len(present))
			for _, k := range slices.Sorted(maps.Keys(present)) {
				ops = append(ops, objstore.Op{Kind: objstore.OpDelete, Key: k})
			}
			if err := o.Commit(r.Context(), ops); err != nil {
				return nil, err
			}
		}
		return map[string]any{"deleted": len(present)}, nil
	})
}

// listEntry is one entry of a list answer.
type listEntry struct {
	Key   string          `json:"key"`
	Value json.RawMessage `json:"value"`
}

func (m *Module) storageList(w http.ResponseWriter, r *http.Request, or objectRequest) {
	opts, err := listOptions(r)
	if err != nil {
		api.WriteFailure(w, r, err)
		return
	}
	limit := opts.Limit
	opts.Limit = limit + 1
	m.run(w, r, or, func(o *objstore.Object) (map[string]any, error) {
		entries, err := o.List(opts)
		if err != nil {
			return nil, err
		}
		truncated := len(entries) > limit
		if truncated {
			entries = entries[:limit]
		}
		out := make([]listEntry, len(entries))
		for i, e := range entries {
			out[i] = listEntry{Key: e.Key, Value: json.RawMessage(e.Value)}
		}
		return map[string]any{"entries": out, "truncated": truncated}, nil
	})
}

// listOptions reads start, startAfter, end, prefix, reverse and limit.
func listOptions(r *http.Request) (objstore.ListOptions, error) {
	q := r.URL.Query()
	bad := func(msg string) error {
		return &api.HTTPError{Status: http.StatusBadRequest, Code: api.CodeDOInvalidList, Message: msg, Err: api.ErrBadRequest}
	}
	opts := objstore.ListOptions{Start: q.Get("start"), StartAfter: q.Get("startAfter"), End: q.Get("end"),
		Prefix: q.Get("prefix"), Limit: DefaultListLimit}
	if opts.Start != "" && opts.StartAfter != "" {
		return opts, bad("start and startAfter cannot be combined")
	}
	for _, k := range []string{opts.Start, opts.StartAfter, opts.End, opts.Prefix} {
		if len(k) > MaxKeyBytes {
			return opts, bad("list bounds are keys: at most 2048 bytes")
		}
	}
	// The service's own keys (reservedPrefix) sort before every user key:
	// a listing starts past them.
	if strings.HasPrefix(opts.Prefix, reservedPrefix) {
		return opts, bad("keys beginning with a NUL byte are reserved")
	}
	switch {
	case opts.StartAfter != "" && opts.StartAfter < userKeysStart:
		opts.StartAfter, opts.Start = "", userKeysStart
	case opts.StartAfter == "" && opts.Start < userKeysStart:
		opts.Start = userKeysStart
	}
	if v := q.Get("reverse"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return opts, bad("reverse must be true or false")
		}
		opts.Reverse = b
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxListLimit {
			return opts, bad("limit must be 1.." + strconv.Itoa(MaxListLimit))
		}
		opts.Limit = n
	}
	return opts, nil
}

func (m *Module) storageDeleteAll(w http.ResponseWriter, r *http.Request, or objectRequest) {
	m.run(w, r, or, func(o *objstore.Object) (map[string]any, error) {
		return nil, o.Commit(r.Context(), []objstore.Op{{Kind: objstore.OpDeleteAll}})
	})
}

func (m *Module) storageIncr(w http.ResponseWriter, r *http.Request, or objectRequest) {
	var body struct {
		Key string       `json:"key"`
		By  *json.Number `json:"by"`
	}
	if err := decodeBody(r, &body); err != nil {
		api.WriteFailure(w, r, err)
		return
	}
	if err := checkKey(body.Key); err != nil {
		api.WriteFailure(w, r, err)
		return
	}
	by := number{i: 1, isInt: true}
	if body.By != nil {
		var ok bool
		if by, ok = parseNumber([]byte(*body.By)); !ok {
			api.WriteFailure(w, r, invalidValue("by must be a number"))
			return
		}
	}
	m.run(w, r, or, func(o *objstore.Object) (map[string]any, error) {
		vals, err := o.Get([]string{body.Key})
		if err != nil {
			return nil, err
		}
		cur := number{isInt: true}
		if raw, ok := vals[body.Key]; ok {
			if cur, ok = parseNumber(raw); !ok {
				return nil, invalidValue("the value of " + strconv.Quote(body.Key) + " is not a number")
			}
		}
		next := cur.add(by)
		if !next.isInt && (math.IsInf(next.f, 0) || math.IsNaN(next.f)) {
			return nil, invalidValue("the sum overflows a JSON number")
		}
		enc := next.json()
		if err := o.Commit(r.Context(), []objstore.Op{{Kind: objstore.OpPut, Key: body.Key, Value: enc}}); err != nil {
			return nil, err
		}
		return map[string]any{"value": json.RawMessage(enc)}, nil
	})
}

func invalidValue(msg string) error {
	return &api.HTTPError{Status: http.StatusBadRequest, Code: api.CodeDOInvalidValue, Message: msg, Err: api.ErrBadRequest}
}

// number is a JSON number: an int64 while both sides are integers that do
// not overflow, a float64 otherwise.
type number struct {
	i     int64
	f     float64
	isInt bool
}

func parseNumber(b []byte) (number, bool) {
	s := string(b)
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return number{i: i, isInt: true}, true
	}
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return number{}, false
	}
	return number{f: f}, true
}

func (n number) float() float64 {
	if n.isInt {
		return float64(n.i)
	}
	return n.f
}

func (n number) add(o number) number {
	if n.isInt && o.isInt {
		s := n.i + o.i
		if (o.i > 0 && s < n.i) || (o.i < 0 && s > n.i) {
			return number{f: n.float() + o.float()}
		}
		return number{i: s, isInt: true}
	}
	return number{f: n.float() + o.float()}
}

func (n number) json() []byte {
	if n.isInt {
		return strconv.AppendInt(nil, n.i, 10)
	}
	return strconv.AppendFloat(nil, n.f, 'g', -1, 64)
}
