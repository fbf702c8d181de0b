package client

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"

	"github.com/edgeplane/edgeplane/pkg/wire"
)

// D1DumpOptions narrows an export (no data, no schema, some tables).
type D1DumpOptions = wire.D1DumpOptions

// D1ExportResponse is the answer of an export.
type D1ExportResponse = wire.D1ExportResponse

// D1ImportResponse is the answer of an import action.
type D1ImportResponse = wire.D1ImportResponse

// maxImportPolls bounds how often Import asks for the state of an ingest
// that did not complete within its request.
const maxImportPolls = 60

// Export asks for a SQL dump of database id and copies it to w from the
// signed URL the node answers. It returns the export's answer (its
// at_bookmark says which state the dump holds) and the bytes written.
func (d *D1) Export(ctx context.Context, id string, opts D1DumpOptions, w io.Writer) (D1ExportResponse, int64, error) {
	var res D1ExportResponse
	body := wire.D1ExportRequest{OutputFormat: "polling", DumpOptions: opts}
	if _, err := d.c.Do(ctx, http.MethodPost, d.path("/"+url.PathEscape(id)+"/export"), body, &res); err != nil {
		return res, 0, fmt.Errorf("d1 export: %w", err)
	}
	if res.Status != "complete" || res.Result.SignedURL == "" {
		return res, 0, fmt.Errorf("d1 export: %w: status %q, error %q", ErrBadResponse, res.Status, res.Error)
	}
	n, err := d.fetchSigned(ctx, http.MethodGet, res.Result.SignedURL, nil, w)
	if err != nil {
		return res, n, fmt.Errorf("d1 export download: %w", err)
	}
	return res, n, nil
}

// fetchSigned sends a request to a signed URL of a node (through the
// client's endpoint: a node forwards it to the one that holds the file)
// and copies the answer's body to w.
func (d *D1) fetchSigned(ctx context.Context, method, signed string, body io.Reader, w io.Writer) (int64, error) {
	u, err := url.Parse(signed)
	if err != nil {
		return 0, fmt.Errorf("signed URL %q: %w", signed, err)
	}
	resp, err := d.c.DoRaw(ctx, method, u.RequestURI(), http.Header{}, body)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, err := decodeEnvelope(resp, nil)
		if err == nil {
			err = fmt.Errorf("%w: HTTP %d", ErrBadResponse, resp.StatusCode)
		}
		return 0, err
	}
	if w == nil {
		w = io.Discard
	}
	return io.Copy(w, resp.Body)
}

// ImportFile imports the SQL file at path into database id as wrangler
// does: init with the file's MD5, upload to the signed URL, ingest (one
// transaction on every replica), then poll until it completes.
func (d *D1) ImportFile(ctx context.Context, id, path string) (D1ImportResponse, error) {
	f, err := os.Open(path)
	if err != nil {
		return D1ImportResponse{}, fmt.Errorf("d1 import: %w", err)
	}
	defer f.Close()
	h := md5.New()
	if _, err := io.Copy(h, f); err != nil {
		return D1ImportResponse{}, fmt.Errorf("d1 import: read %s: %w", path, err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return D1ImportResponse{}, fmt.Errorf("d1 import: %w", err)
	}
	return d.Import(ctx, id, hex.EncodeToString(h.Sum(nil)), f)
}

// Import imports SQL text read from r, whose MD5 (hex) is etag, into
// database id (see ImportFile).
func (d *D1) Import(ctx context.Context, id, etag string, r io.Reader) (D1ImportResponse, error) {
	path := d.path("/" + url.PathEscape(id) + "/import")
	var init D1ImportResponse
	if _, err := d.c.Do(ctx, http.MethodPost, path, wire.D1ImportRequest{Action: "init", Etag: etag}, &init); err != nil {
		return init, fmt.Errorf("d1 import init: %w", err)
	}
	if _, err := d.fetchSigned(ctx, http.MethodPut, init.UploadURL, r, nil); err != nil {
		return init, fmt.Errorf("d1 import upload: %w", err)
	}
	var res D1ImportResponse
	if _, err := d.c.Do(ctx, http.MethodPost, path, wire.D1ImportRequest{Action: "ingest", Etag: etag, Filename: init.Filename}, &res); err != nil {
		return res, fmt.Errorf("d1 import ingest: %w", err)
	}
	for i := 0; res.Status != "complete"; i++ {
		if res.Status == "error" || i == maxImportPolls {
			return res, fmt.Errorf("d1 import: status %q: %s", res.Status, res.Error)
		}
		bookmark := res.AtBookmark
		res = D1ImportResponse{}
		if _, err := d.c.Do(ctx, http.MethodPost, path, wire.D1ImportRequest{Action: "poll", CurrentBookmark: bookmark}, &res); err != nil {
			return res, fmt.Errorf("d1 import poll: %w", err)
		}
	}
	return res, nil
}
