package kv

import (
	"context"
	"errors"
	"fmt"
	"github.com/edgeplane/edgeplane/pkg/api"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// maxMultipartParts bounds the parts read from a multipart value upload.
const maxMultipartParts = 16

// getValue answers a key's value as raw bytes, with its expiration (Unix
// seconds) in the expiration header when it has one.
func (h *handlers) getValue(w http.ResponseWriter, r *http.Request) {
	e, ok := h.lookupKey(w, r, true)
	if !ok {
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", "application/octet-stream")
	hd.Set("Content-Length", strconv.Itoa(len(e.Value)))
	if e.Expiration != 0 {
		hd.Set("expiration", strconv.FormatInt(e.Expiration, 10))
	}
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(e.Value)
	}
}

// keyTarget resolves the namespace id and the key a values/ or metadata/
// request names, answering the failure itself when either is wrong.
func (h *handlers) keyTarget(w http.ResponseWriter, r *http.Request) (ns, key string, ok bool) {
	_, n, ok := h.namespace(w, r)
	if !ok {
		return "", "", false
	}
	key, err := kvKeyFromPath(r.URL.EscapedPath())
	if err != nil {
		kvFailure(w, r, err)
		return "", "", false
	}
	return n.ID, key, true
}

// lookupKey reads the live entry a values/ or metadata/ request names,
// answering the failure itself (unknown namespace, bad key, 10009) when
// there is none. withCacheTTL also checks the cacheTtl parameter.
func (h *handlers) lookupKey(w http.ResponseWriter, r *http.Request, withCacheTTL bool) (Entry, bool) {
	ns, key, ok := h.keyTarget(w, r)
	if !ok {
		return Entry{}, false
	}
	var err error
	if withCacheTTL {
		err = checkCacheTTL(r.URL.Query())
	}
	if err == nil {
		var e Entry
		if e, err = h.data.Get(r.Context(), ns, key); err == nil {
			return e, true
		}
	}
	if errors.Is(err, ErrKeyNotFound) {
		api.WriteFailure(w, r, kvKeyNotFound())
	} else {
		kvFailure(w, r, err)
	}
	return Entry{}, false
}

// getMetadata answers a key's metadata as the envelope's result (null when
// it has none).
func (h *handlers) getMetadata(w http.ResponseWriter, r *http.Request) {
	e, ok := h.lookupKey(w, r, false)
	if !ok {
		return
	}
	api.WriteResult(w, http.StatusOK, rawJSONOrNull(e.Metadata), nil)
}

// putValue writes a value: the raw body, or the value and metadata parts
// of a multipart/form-data body; expiration and expiration_ttl (which
// wins) set when it expires.
func (h *handlers) putValue(w http.ResponseWriter, r *http.Request) {
	ns, key, ok := h.keyTarget(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	exp, err := parseExpirationParams(q.Get("expiration"), q.Get("expiration_ttl"), time.Now())
	if err != nil {
		kvFailure(w, r, err)
		return
	}
	ctx, ok := replicasParam(w, r)
	if !ok {
		return
	}
	value, metadata, err := readValueBody(r)
	if err != nil {
		kvFailure(w, r, err)
		return
	}
	if _, err := h.data.Put(ctx, ns, key, value, metadata, exp); err != nil {
		kvFailure(w, r, err)
		return
	}
	api.WriteEmptyResult(w)
}

// deleteValue deletes a key; deleting a missing key succeeds.
func (h *handlers) deleteValue(w http.ResponseWriter, r *http.Request) {
	ns, key, ok := h.keyTarget(w, r)
	if !ok {
		return
	}
	ctx, ok := replicasParam(w, r)
	if !ok {
		return
	}
	if err := h.data.Delete(ctx, ns, key); err != nil {
		kvFailure(w, r, err)
		return
	}
	api.WriteEmptyResult(w)
}

// parseExpirationParams reads the expiration and expiration_ttl query
// values ("" = absent) into an absolute Unix second (0 = never).
func parseExpirationParams(expiration, ttl string, now time.Time) (int64, error) {
	var exp, t int64
	var err error
	if expiration != "" {
		if exp, err = strconv.ParseInt(expiration, 10, 64); err != nil {
			return 0, fmt.Errorf("%w: expiration %q is not an integer", ErrInvalidExpiration, expiration)
		}
	}
	if ttl != "" {
		if t, err = strconv.ParseInt(ttl, 10, 64); err != nil {
			return 0, fmt.Errorf("%w: expiration_ttl %q is not an integer", ErrInvalidExpiration, ttl)
		}
		if t == 0 {
			return 0, fmt.Errorf("%w: expiration_ttl 0 is below the minimum of %d seconds", ErrInvalidExpiration, MinExpirationTTL)
		}
	}
	if expiration != "" && ttl == "" && exp == 0 {
		return 0, fmt.Errorf("%w: expiration 0 is in the past", ErrInvalidExpiration)
	}
	if t > 1<<40 || exp > 1<<40 {
		return 0, fmt.Errorf("%w: too far in the future", ErrInvalidExpiration)
	}
	return ResolveExpiration(exp, t, now)
}

// checkCacheTTL accepts the cacheTtl read option (an integer >= 60) for
// compatibility; reads are local, so it changes nothing.
func checkCacheTTL(q url.Values) error {
	raw := q.Get("cacheTtl")
	if raw == "" {
		return nil
	}
	if n, err := strconv.ParseInt(raw, 10, 64); err != nil || n < MinExpirationTTL {
		return api.BadRequest(api.CodeBadRequest, "cacheTtl must be an integer of at least %d", MinExpirationTTL)
	}
	return nil
}

// readValueBody returns the value and metadata (nil when none) of a PUT:
// a multipart/form-data body's value and metadata parts, or else the raw
// body. A value over MaxValueBytes is ErrValueTooLarge.
func readValueBody(r *http.Request) (value, metadata []byte, err error) {
	value, metadata, err = readValueBodyRaw(r)
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) { // over the framing allowance: the value is too large
		err = fmt.Errorf("%w: the limit is %d bytes", ErrValueTooLarge, MaxValueBytes)
	}
	return value, metadata, err
}

// readValueBodyRaw is readValueBody without the mapping of body overruns.
// The body is held to kvValueBodyLimit here (the route admits more, so
// that a raw and a multipart value over 25 MiB get the same answer, 413
// with code 10024, rather than the generic body limit's).
func readValueBodyRaw(r *http.Request) (value, metadata []byte, err error) {
	if r.ContentLength > kvValueBodyLimit {
		return nil, nil, fmt.Errorf("%w: the limit is %d bytes", ErrValueTooLarge, MaxValueBytes)
	}
	if r.Body != nil && r.Body != http.NoBody {
		r.Body = http.MaxBytesReader(nil, r.Body, kvValueBodyLimit)
	}
	mt, params, perr := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if perr != nil || mt != "multipart/form-data" {
		value, err = readLimited(r.Body, r.ContentLength, MaxValueBytes)
		if errors.Is(err, errOverLimit) {
			return nil, nil, fmt.Errorf("%w: the limit is %d bytes", ErrValueTooLarge, MaxValueBytes)
		}
		return value, nil, err
	}
	if params["boundary"] == "" {
		return nil, nil, api.BadRequest(api.CodeBadRequest, "multipart body without a boundary")
	}
	return readMultipartValue(multipart.NewReader(r.Body, params["boundary"]))
}

// readMultipartValue reads the value and metadata parts; others are
// skipped. The value part is required.
func readMultipartValue(mr *multipart.Reader) (value, metadata []byte, err error) {
	gotValue := false
	for range maxMultipartParts {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			if !gotValue {
				return nil, nil, api.BadRequest(api.CodeBadRequest, "multipart body has no value part")
			}
			return value, metadata, nil
		}
		if err != nil {
			return nil, nil, multipartError(err)
		}
		switch part.FormName() {
		case "value":
			value, err = readLimited(part, -1, MaxValueBytes)
			if errors.Is(err, errOverLimit) {
				return nil, nil, fmt.Errorf("%w: the limit is %d bytes", ErrValueTooLarge, MaxValueBytes)
			}
			gotValue = true
		case "metadata":
			metadata, err = readLimited(part, -1, MaxMetadataBytes)
			if errors.Is(err, errOverLimit) {
				return nil, nil, fmt.Errorf("%w: over %d bytes serialized", ErrInvalidMetadata, MaxMetadataBytes)
			}
			if err == nil && metadata == nil {
				metadata = []byte{} // present but empty: not JSON
			}
		default:
			_, err = io.Copy(io.Discard, part)
		}
		if err != nil {
			return nil, nil, multipartError(err)
		}
	}
	return nil, nil, api.BadRequest(api.CodeBadRequest, "multipart body has more than %d parts", maxMultipartParts)
}

// multipartError keeps body overruns (413) and calls the rest malformed.
func multipartError(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return err
	}
	return api.BadRequest(api.CodeBadRequest, "malformed multipart body: %v", err)
}

// errOverLimit is readLimited's answer to more than limit bytes.
var errOverLimit = errors.New("over limit")

// readLimited reads all of rd, failing with errOverLimit past limit bytes.
// sizeHint (a Content-Length, or -1) sizes the buffer once: one byte more
// than the body, so that reading the end allocates nothing further.
func readLimited(rd io.Reader, sizeHint int64, limit int) ([]byte, error) {
	lr := io.LimitReader(rd, int64(limit)+1)
	buf := []byte{}
	if sizeHint > 0 && sizeHint <= int64(limit) {
		buf = make([]byte, 0, sizeHint+1)
	}
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := lr.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	if len(buf) > limit {
		return nil, errOverLimit
	}
	return buf, nil
}

// maxReplicasParam bounds ?replicas=N.
const maxReplicasParam = 64

// replicasParam reads ?replicas=N of a write: the returned context makes
// the write wait until N nodes (this one included) hold it, up to
// MaxReplicaWait. A bad N is answered 400 here.
func replicasParam(w http.ResponseWriter, r *http.Request) (context.Context, bool) {
	raw := r.URL.Query().Get("replicas")
	if raw == "" {
		return r.Context(), true
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < 1 || n > maxReplicasParam {
		api.WriteFailure(w, r, api.BadRequest(api.CodeBadRequest, "replicas must be an integer from 1 to %d", maxReplicasParam))
		return nil, false
	}
	return WithReplicas(r.Context(), n), true
}
