package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
)

// ErrDONamespaceNotFound is a namespace name or id the account lacks.
var ErrDONamespaceNotFound = errors.New("durable object namespace not found")

// DO is the Durable Objects API of one account. Make one with Client.DO;
// it is safe for concurrent use.
type DO struct {
	c       *Client
	account string
}

// DO returns the Durable Objects API of account accountID (see AccountID).
func (c *Client) DO(accountID string) *DO { return &DO{c: c, account: accountID} }

// Account returns the account id the API acts on.
func (d *DO) Account() string { return d.account }

// DONamespace is a Durable Object namespace.
type DONamespace struct {
	ID               string `json:"id"`
	Name             string `json:"name"`
	CreatedOn        string `json:"created_on,omitempty"`
	LocationHint     string `json:"location_hint,omitempty"`
	AlarmWebhook     string `json:"alarm_webhook,omitempty"`
	WebsocketHistory int    `json:"websocket_history"`
}

// DONamespaceCreate is the body of a namespace create.
type DONamespaceCreate struct {
	Name             string `json:"name"`
	LocationHint     string `json:"location_hint,omitempty"`
	AlarmWebhook     string `json:"alarm_webhook,omitempty"`
	WebsocketHistory int    `json:"websocket_history,omitempty"`
}

// DONamespaceUpdate is the body of a namespace PATCH: a nil field stays as
// it is; an empty AlarmWebhook removes the webhook.
type DONamespaceUpdate struct {
	AlarmWebhook     *string `json:"alarm_webhook,omitempty"`
	WebsocketHistory *int    `json:"websocket_history,omitempty"`
}

// ObjectRef names an object of a namespace: by name (the id is derived by
// the server) or by its 64-hex id.
type ObjectRef struct {
	Name string
	ID   string
}

// ByName refers to the object named name.
func ByName(name string) ObjectRef { return ObjectRef{Name: name} }

// ByID refers to the object with id (64 lowercase hex digits).
func ByID(id string) ObjectRef { return ObjectRef{ID: id} }

// String names the reference for messages.
func (o ObjectRef) String() string {
	if o.ID != "" {
		return o.ID
	}
	return strconv.Quote(o.Name)
}

var objectIDPattern = regexp.MustCompile(`^[0-9a-f]{64}$`)

// IsObjectID reports whether s has the form of an object id.
func IsObjectID(s string) bool { return objectIDPattern.MatchString(s) }

func (d *DO) namespacesPath() string {
	return "/client/v4/accounts/" + url.PathEscape(d.account) + "/durable_objects/namespaces"
}

func (d *DO) nsPath(ns string) string { return d.namespacesPath() + "/" + url.PathEscape(ns) }

// ObjectPath is the API path of object o of namespace ns followed by rest
// ("/storage/get", "/where", ...).
func (d *DO) ObjectPath(ns string, o ObjectRef, rest string) string {
	if o.ID != "" {
		return d.nsPath(ns) + "/objects/" + url.PathEscape(o.ID) + rest
	}
	return d.nsPath(ns) + "/objects/by-name/" + url.PathEscape(o.Name) + rest
}

// CreateNamespace creates a namespace.
func (d *DO) CreateNamespace(ctx context.Context, req DONamespaceCreate) (DONamespace, error) {
	var out DONamespace
	if _, err := d.c.Do(ctx, http.MethodPost, d.namespacesPath(), req, &out); err != nil {
		return DONamespace{}, fmt.Errorf("create durable object namespace %q: %w", req.Name, err)
	}
	return out, nil
}

// UpdateNamespace changes namespace id's alarm webhook or WebSocket
// history and returns it as changed.
func (d *DO) UpdateNamespace(ctx context.Context, id string, req DONamespaceUpdate) (DONamespace, error) {
	var out DONamespace
	if _, err := d.c.Do(ctx, http.MethodPatch, d.nsPath(id), req, &out); err != nil {
		return DONamespace{}, fmt.Errorf("update durable object namespace %s: %w", id, err)
	}
	return out, nil
}

// ListNamespaces returns every namespace of the account, by name.
func (d *DO) ListNamespaces(ctx context.Context) ([]DONamespace, error) {
	return listAll[DONamespace](ctx, d.c, "durable object namespaces", d.namespacesPath(),
		url.Values{"order": {"name"}, "direction": {"asc"}}, namespacePageSize)
}

// GetNamespace returns namespace id.
func (d *DO) GetNamespace(ctx context.Context, id string) (DONamespace, error) {
	var out DONamespace
	if _, err := d.c.Do(ctx, http.MethodGet, d.nsPath(id), nil, &out); err != nil {
		return DONamespace{}, fmt.Errorf("get durable object namespace %s: %w", id, err)
	}
	return out, nil
}

// DeleteNamespace deletes namespace id and every object in it.
func (d *DO) DeleteNamespace(ctx context.Context, id string) error {
	if _, err := d.c.Do(ctx, http.MethodDelete, d.nsPath(id), nil, nil); err != nil {
		return fmt.Errorf("delete durable object namespace %s: %w", id, err)
	}
	return nil
}

// ResolveNamespace finds a namespace by id or, failing that, by name.
func (d *DO) ResolveNamespace(ctx context.Context, nameOrID string) (DONamespace, error) {
	all, err := d.ListNamespaces(ctx)
	if err != nil {
		return DONamespace{}, err
	}
	for _, ns := range all {
		if ns.ID == nameOrID {
			return ns, nil
		}
	}
	for _, ns := range all {
		if ns.Name == nameOrID {
			return ns, nil
		}
	}
	return DONamespace{}, fmt.Errorf("%w: %q (neither an id nor a name in account %s)", ErrDONamespaceNotFound, nameOrID, d.account)
}

// IDFromName asks the server for the id of the object named name.
func (d *DO) IDFromName(ctx context.Context, ns, name string) (string, error) {
	var out struct {
		ID string `json:"id"`
	}
	if _, err := d.c.Do(ctx, http.MethodPost, d.nsPath(ns)+"/ids", map[string]string{"name": name}, &out); err != nil {
		return "", fmt.Errorf("id of %q: %w", name, err)
	}
	return out.ID, nil
}

// DOGetResult is the answer of a storage get: the present keys' values.
type DOGetResult struct {
	Entries  map[string]json.RawMessage `json:"entries"`
	ServedBy string                     `json:"served_by"`
}

// Get reads keys of object o.
func (d *DO) Get(ctx context.Context, ns string, o ObjectRef, keys []string) (DOGetResult, error) {
	var out DOGetResult
	if _, err := d.c.Do(ctx, http.MethodPost, d.ObjectPath(ns, o, "/storage/get"), map[string]any{"keys": keys}, &out); err != nil {
		return DOGetResult{}, fmt.Errorf("get from object %s: %w", o, err)
	}
	return out, nil
}

// DOWriteResult is the answer of a write: the node that served it.
type DOWriteResult struct {
	ServedBy string `json:"served_by"`
	Deleted  int    `json:"deleted,omitempty"`
}

// Put writes entries (JSON values) to object o, all or nothing.
func (d *DO) Put(ctx context.Context, ns string, o ObjectRef, entries map[string]json.RawMessage) (DOWriteResult, error) {
	var out DOWriteResult
	if _, err := d.c.Do(ctx, http.MethodPost, d.ObjectPath(ns, o, "/storage/put"), map[string]any{"entries": entries}, &out); err != nil {
		return DOWriteResult{}, fmt.Errorf("put to object %s: %w", o, err)
	}
	return out, nil
}

// Delete deletes keys of object o; Deleted counts those that existed.
func (d *DO) Delete(ctx context.Context, ns string, o ObjectRef, keys []string) (DOWriteResult, error) {
	var out DOWriteResult
	if _, err := d.c.Do(ctx, http.MethodPost, d.ObjectPath(ns, o, "/storage/delete"), map[string]any{"keys": keys}, &out); err != nil {
		return DOWriteResult{}, fmt.Errorf("delete from object %s: %w", o, err)
	}
	return out, nil
}

// DOListOptions selects the entries of a list.
type DOListOptions struct {
	Start, StartAfter, End, Prefix string
	Reverse                        bool
	Limit                          int
}

// DOEntry is one listed entry.
type DOEntry struct {
	Key   string          `json:"key"`
	Value json.RawMessage `json:"value"`
}

// DOListResult is one list answer.
type DOListResult struct {
	Entries   []DOEntry `json:"entries"`
	Truncated bool      `json:"truncated"`
	ServedBy  string    `json:"served_by"`
}

// List lists the entries of object o.
func (d *DO) List(ctx context.Context, ns string, o ObjectRef, opts DOListOptions) (DOListResult, error) {
	q := url.Values{}
	for k, v := range map[string]string{"start": opts.Start, "startAfter": opts.StartAfter, "end": opts.End, "prefix": opts.Prefix} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if opts.Reverse {
		q.Set("reverse", "true")
	}
	if opts.Limit > 0 {
		q.Set("limit", strconv.Itoa(opts.Limit))
	}
	path := d.ObjectPath(ns, o, "/storage")
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	var out DOListResult
	if _, err := d.c.Do(ctx, http.MethodGet, path, nil, &out); err != nil {
		return DOListResult{}, fmt.Errorf("list object %s: %w", o, err)
	}
	if out.Entries == nil {
		out.Entries = []DOEntry{}
	}
	return out, nil
}

// DOIncrResult is the answer of an incr: the new value.
type DOIncrResult struct {
	Value    json.Number `json:"value"`
	ServedBy string      `json:"served_by"`
}

// Incr adds by to the number at key of object o (a missing key counts as 0).
func (d *DO) Incr(ctx context.Context, ns string, o ObjectRef, key string, by int64) (DOIncrResult, error) {
	var raw struct {
		Value    json.RawMessage `json:"value"`
		ServedBy string          `json:"served_by"`
	}
	if _, err := d.c.Do(ctx, http.MethodPost, d.ObjectPath(ns, o, "/storage/incr"), map[string]any{"key": key, "by": by}, &raw); err != nil {
		return DOIncrResult{}, fmt.Errorf("incr %q of object %s: %w", key, o, err)
	}
	n := json.Number(strings.TrimSpace(string(raw.Value)))
	if _, err := n.Float64(); err != nil {
		return DOIncrResult{}, fmt.Errorf("incr %q of object %s: %w: value %q is not a number", key, o, ErrBadResponse, raw.Value)
	}
	return DOIncrResult{Value: n, ServedBy: raw.ServedBy}, nil
}

// DOWhere is where an object lives.
type DOWhere struct {
	ID             string   `json:"id"`
	Owner          string   `json:"owner"`
	Replicas       []string `json:"replicas"`
	Epoch          uint64   `json:"epoch"`
	LeaseExpiresAt string   `json:"lease_expires_at,omitempty"`
	ServedBy       string   `json:"served_by,omitempty"`
}

// Where returns object o's owner and replicas.
func (d *DO) Where(ctx context.Context, ns string, o ObjectRef) (DOWhere, error) {
	var out DOWhere
	if _, err := d.c.Do(ctx, http.MethodGet, d.ObjectPath(ns, o, "/where"), nil, &out); err != nil {
		return DOWhere{}, fmt.Errorf("where is object %s: %w", o, err)
	}
	return out, nil
}

// DOAlarm is an object's alarm: ms since the epoch, nil when none.
type DOAlarm struct {
	ScheduledTime *int64 `json:"scheduled_time"`
	Deleted       *bool  `json:"deleted,omitempty"`
	ServedBy      string `json:"served_by,omitempty"`
}

// SetAlarm sets object o's alarm to at (ms since the epoch).
func (d *DO) SetAlarm(ctx context.Context, ns string, o ObjectRef, at int64) (DOAlarm, error) {
	var out DOAlarm
	if _, err := d.c.Do(ctx, http.MethodPut, d.ObjectPath(ns, o, "/alarm"), map[string]int64{"scheduled_time": at}, &out); err != nil {
		return DOAlarm{}, fmt.Errorf("set alarm of object %s: %w", o, err)
	}
	return out, nil
}

// GetAlarm returns object o's alarm.
func (d *DO) GetAlarm(ctx context.Context, ns string, o ObjectRef) (DOAlarm, error) {
	var out DOAlarm
	if _, err := d.c.Do(ctx, http.MethodGet, d.ObjectPath(ns, o, "/alarm"), nil, &out); err != nil {
		return DOAlarm{}, fmt.Errorf("get alarm of object %s: %w", o, err)
	}
	return out, nil
}

// DeleteAlarm removes object o's alarm.
func (d *DO) DeleteAlarm(ctx context.Context, ns string, o ObjectRef) (DOAlarm, error) {
	var out DOAlarm
	if _, err := d.c.Do(ctx, http.MethodDelete, d.ObjectPath(ns, o, "/alarm"), nil, &out); err != nil {
		return DOAlarm{}, fmt.Errorf("delete alarm of object %s: %w", o, err)
	}
	return out, nil
}

// WebSocketURL is the ws:// (or wss://) URL of object o's WebSocket on
// endpoint (an http(s) base URL), with tags.
func (d *DO) WebSocketURL(endpoint, ns string, o ObjectRef, tags ...string) string {
	u := strings.TrimRight(endpoint, "/") + d.ObjectPath(ns, o, "/websocket")
	if len(tags) > 0 {
		u += "?" + url.Values{"tag": tags}.Encode()
	}
	switch {
	case strings.HasPrefix(u, "https://"):
		return "wss://" + strings.TrimPrefix(u, "https://")
	case strings.HasPrefix(u, "http://"):
		return "ws://" + strings.TrimPrefix(u, "http://")
	}
	return u
}
