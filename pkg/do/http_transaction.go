package do

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"

	"github.com/edgeplane/edgeplane/pkg/api"
	"github.com/edgeplane/edgeplane/pkg/do/objstore"
	"github.com/edgeplane/edgeplane/pkg/service"
)

// transactionRoutes is the all-or-nothing transaction: checks, then ops.
func (m *Module) transactionRoutes() []service.Route {
	return m.objectRoute("POST", "/storage/transaction", "transaction", MaxWriteBody, service.AccessWrite, m.storageTransaction)
}

// txnCheck holds if key's value equals Equals (compact JSON bytes), or if
// Absent, if key has no value.
type txnCheck struct {
	Key    string          `json:"key"`
	Equals json.RawMessage `json:"equals,omitempty"`
	Absent bool            `json:"absent,omitempty"`
}

// txnOp is one write of a transaction.
type txnOp struct {
	Op    string          `json:"op"`
	Key   string          `json:"key"`
	Value json.RawMessage `json:"value,omitempty"`
}

type txnBody struct {
	Checks []txnCheck `json:"checks"`
	Ops    []txnOp    `json:"ops"`
}

// parsedTxn is a transaction checked against every limit.
type parsedTxn struct {
	keys   []string
	equals map[string][]byte // nil value: must be absent
	ops    []objstore.Op
}

func parseTransaction(body txnBody) (parsedTxn, error) {
	t := parsedTxn{equals: make(map[string][]byte)}
	if len(body.Checks) > MaxKeysPerCall {
		return t, checkCount("checks", len(body.Checks))
	}
	if err := checkCount("ops", len(body.Ops)); err != nil {
		return t, err
	}
	for i, c := range body.Checks {
		if err := checkKey(c.Key); err != nil {
			return t, err
		}
		if _, dup := t.equals[c.Key]; dup {
			return t, api.BadRequest(api.CodeBadRequest, "check %d: key %q is checked twice", i, c.Key)
		}
		switch {
		case c.Absent && len(c.Equals) == 0:
			t.equals[c.Key] = nil
		case !c.Absent && len(c.Equals) > 0:
			v, err := value(c.Key, c.Equals)
			if err != nil {
				return t, err
			}
			t.equals[c.Key] = v
		default:
			return t, api.BadRequest(api.CodeBadRequest, "check %d: give exactly one of equals or absent: true", i)
		}
		t.keys = append(t.keys, c.Key)
	}
	for i, o := range body.Ops {
		if err := checkKey(o.Key); err != nil {
			return t, err
		}
		switch o.Op {
		case "put":
			v, err := value(o.Key, o.Value)
			if err != nil {
				return t, err
			}
			t.ops = append(t.ops, objstore.Op{Kind: objstore.OpPut, Key: o.Key, Value: v})
		case "delete":
			if len(o.Value) > 0 {
				return t, api.BadRequest(api.CodeBadRequest, "op %d: a delete takes no value", i)
			}
			t.ops = append(t.ops, objstore.Op{Kind: objstore.OpDelete, Key: o.Key})
		default:
			return t, api.BadRequest(api.CodeBadRequest, "op %d: op must be put or delete, got %s", i, strconv.Quote(o.Op))
		}
	}
	return t, nil
}

func checkFailed(key string) error {
	return &api.HTTPError{Status: http.StatusConflict, Code: api.CodeDOCheckFailed,
		Message: fmt.Sprintf("transaction check on %q failed; nothing was written", key), Err: api.ErrConflict}
}

func (m *Module) storageTransaction(w http.ResponseWriter, r *http.Request, or objectRequest) {
	var body txnBody
	if err := decodeBody(r, &body); err != nil {
		api.WriteFailure(w, r, err)
		return
	}
	t, err := parseTransaction(body)
	if err != nil {
		api.WriteFailure(w, r, err)
		return
	}
	m.run(w, r, or, func(o *objstore.Object) (map[string]any, error) {
		if len(t.keys) > 0 {
			cur, err := o.Get(t.keys)
			if err != nil {
				return nil, err
			}
			for _, k := range t.keys {
				want := t.equals[k]
				got, present := cur[k]
				if (want == nil && present) || (want != nil && (!present || !bytes.Equal(got, want))) {
					return nil, checkFailed(k)
				}
			}
		}
		if err := o.Commit(r.Context(), t.ops); err != nil {
			return nil, err
		}
		return map[string]any{"committed": true}, nil
	})
}
