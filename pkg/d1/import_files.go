package d1

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/edgeplane/edgeplane/pkg/api"
)

// Files of export and import. An export's dump and an import's upload live
// on the node that served the export or the init, under <data-dir>/d1/io,
// and are fetched or sent through signed URLs of that node: an HMAC-SHA256
// over the path and the expiry, with a key drawn at random when the node
// starts (a restart invalidates the URLs it gave out, as it may have lost
// the files). The URLs need no token, as Cloudflare's signed URLs do not.
// Files are removed after ingest, and every file older than FileTTL by the
// sweep.

const (
	// DefaultMaxImportBytes bounds an import upload unless
	// Options.MaxImportBytes says otherwise (100 MB).
	DefaultMaxImportBytes = 100_000_000
	// MaxImportCommandBytes bounds the one Raft command an ingest becomes.
	// A follower hands its proposals to the leader over gRPC, whose
	// messages are bounded by router.MaxMessageBytes (36 MiB); Raft's own
	// bound is replication.MaxCommandBytes (64 MiB). 32 MiB fits both.
	MaxImportCommandBytes = 32 << 20
	// FileTTL is how long a signed URL is valid and how long an export
	// or an upload is kept (Cloudflare's signed URLs last an hour).
	FileTTL = time.Hour
)

// Query parameters of a signed URL.
const (
	paramExpires   = "expires"
	paramSignature = "signature"
)

// Route patterns of the signed URLs: outside /client/v4, since they carry
// no token. {node} names the node that holds the file, so that a request
// reaching another node is forwarded there.
const (
	uploadPattern   = "PUT /d1/files/{node}/upload/{file}"
	downloadPattern = "GET /d1/files/{node}/export/{file}"
)

// ioFiles holds the export and upload files of this node.
type ioFiles struct {
	dir       string // <data-dir>/d1/io
	key       []byte // HMAC key of the signed URLs
	maxImport int64
	now       func() time.Time
}

func newIOFiles(dataDir string, maxImport int64) (*ioFiles, error) {
	if maxImport <= 0 {
		maxImport = DefaultMaxImportBytes
	}
	f := &ioFiles{dir: filepath.Join(dataDir, "io"), key: make([]byte, 32), maxImport: maxImport, now: time.Now}
	if _, err := rand.Read(f.key); err != nil {
		return nil, fmt.Errorf("d1 signing key: %w", err)
	}
	for _, sub := range []string{"upload", "export"} {
		if err := os.MkdirAll(filepath.Join(f.dir, sub), 0o755); err != nil {
			return nil, fmt.Errorf("d1 io dir: %w", err)
		}
	}
	return f, nil
}

// fileNameRE is the shape of the names this node gives its files.
var fileNameRE = regexp.MustCompile(`^[0-9a-f]{32}\.sql$`)

// newFileName draws a file name nobody can guess.
func newFileName() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("d1 file name: %w", err)
	}
	return hex.EncodeToString(b[:]) + ".sql", nil
}

// path is the file of name in sub ("upload" or "export"); name must have
// passed fileNameRE.
func (f *ioFiles) path(sub, name string) string { return filepath.Join(f.dir, sub, name) }

func (f *ioFiles) signature(path string, expires int64) string {
	h := hmac.New(sha256.New, f.key)
	_, _ = h.Write([]byte(path + "\n" + strconv.FormatInt(expires, 10)))
	return hex.EncodeToString(h.Sum(nil))
}

// signedURL is base + path, valid for FileTTL.
func (f *ioFiles) signedURL(base, path string) string {
	exp := f.now().Add(FileTTL).Unix()
	return base + path + "?" + paramExpires + "=" + strconv.FormatInt(exp, 10) + "&" + paramSignature + "=" + f.signature(path, exp)
}

// errSignedURL answers a signed URL that is not valid (403).
func errSignedURL(format string, args ...any) *api.HTTPError {
	return &api.HTTPError{Status: http.StatusForbidden, Code: api.CodeD1SignedURL, Message: fmt.Sprintf(format, args...), Err: api.ErrBadRequest}
}

// verify checks the signature and expiry of a signed request and returns
// its file name.
func (f *ioFiles) verify(r *http.Request) (string, error) {
	q := r.URL.Query()
	exp, err := strconv.ParseInt(q.Get(paramExpires), 10, 64)
	if err != nil {
		return "", errSignedURL("the URL has no valid %s parameter", paramExpires)
	}
	want := f.signature(r.URL.Path, exp)
	if got := q.Get(paramSignature); !hmac.Equal([]byte(got), []byte(want)) {
		return "", errSignedURL("the URL's signature is not valid")
	}
	if f.now().Unix() > exp {
		return "", errSignedURL("the URL expired at %s", time.Unix(exp, 0).UTC().Format(time.RFC3339))
	}
	name := r.PathValue("file")
	if !fileNameRE.MatchString(name) {
		return "", errSignedURL("the URL names no file")
	}
	return name, nil
}

// sweep removes the files older than FileTTL (and unfinished uploads).
func (f *ioFiles) sweep() (int, error) {
	var n int
	var errs []error
	cutoff := f.now().Add(-FileTTL)
	for _, sub := range []string{"upload", "export"} {
		entries, err := os.ReadDir(filepath.Join(f.dir, sub))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, e := range entries {
			info, err := e.Info()
			if err != nil || info.ModTime().After(cutoff) {
				continue
			}
			if err := os.Remove(f.path(sub, e.Name())); err != nil && !errors.Is(err, os.ErrNotExist) {
				errs = append(errs, err)
				continue
			}
			n++
		}
	}
	return n, errors.Join(errs...)
}

// sweepLoop sweeps every minute until ctx ends.
func (f *ioFiles) sweepLoop(ctx context.Context, log *slog.Logger) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		if n, err := f.sweep(); err != nil {
			log.Error("sweep d1 export and import files", "err", err)
		} else if n > 0 {
			log.Info("removed expired d1 export and import files", "files", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// baseURL is the scheme and host the client reached this node by, for the
// signed URLs this node hands out.
func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// nodeHolder places a signed URL's request on the node its path names.
func nodeHolder(r *http.Request) ([]string, error) {
	node := r.PathValue("node")
	if node == "" || strings.ContainsAny(node, "/?#") {
		return nil, errSignedURL("the URL names no node")
	}
	return []string{node}, nil
}
