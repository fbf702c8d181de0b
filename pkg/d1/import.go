package d1

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/edgeplane/edgeplane/pkg/api"
	"github.com/edgeplane/edgeplane/pkg/wire"
)

// Import, as wrangler's `d1 execute --remote --file` drives it: POST
// .../import {"action":"init","etag":<md5 hex>} answers an upload URL of
// this node; PUT of the file there (no token: the URL is signed) checks its
// MD5 against the etag and answers ETag; {"action":"ingest"} then applies
// the whole file as ONE Raft command: one SQLite transaction on every
// replica, all or nothing, under the same determinism rules as every write
// (CURRENT_* rewritten, the proposer's clock and seed). The upload is
// removed once ingested (or by the sweep after FileTTL).
//
// The command holds the file's statements packed into texts of at most
// MaxStatementBytes each (a text of several statements runs them in
// order), so a dump of a million rows is a few hundred texts, within the
// command's statement cap. Its encoded size is bounded by
// MaxImportCommandBytes; a file that does not fit is refused with 413
// before anything is proposed: split it, or import it in several files.

// uploadMeta is what init records beside an upload: whose it is and the
// MD5 the file must have.
type uploadMeta struct {
	Account string    `json:"account"`
	DB      string    `json:"db"`
	Etag    string    `json:"etag"`
	Created time.Time `json:"created"`
}

var etagRE = regexp.MustCompile(`^[0-9a-f]{32}$`)

func importNotFound(format string, args ...any) *api.HTTPError {
	return &api.HTTPError{Status: http.StatusNotFound, Code: api.CodeD1ImportNotFound, Message: fmt.Sprintf(format, args...), Err: api.ErrNotFound}
}

func importTooLarge(format string, args ...any) *api.HTTPError {
	return &api.HTTPError{Status: http.StatusRequestEntityTooLarge, Code: api.CodeD1ImportTooLarge, Message: fmt.Sprintf(format, args...), Err: api.ErrBodyTooLarge}
}

func checksumMismatch(format string, args ...any) *api.HTTPError {
	return &api.HTTPError{Status: http.StatusBadRequest, Code: api.CodeD1ImportChecksum, Message: fmt.Sprintf(format, args...), Err: api.ErrBadRequest}
}

// importHandler serves POST .../import: init, ingest or poll.
func (m *Module) importHandler(w http.ResponseWriter, r *http.Request) {
	account, id, ok := m.target(w, r)
	if !ok {
		return
	}
	var req wire.D1ImportRequest
	if err := api.DecodeJSON(r, &req); err != nil {
		api.WriteFailure(w, r, err)
		return
	}
	var resp wire.D1ImportResponse
	var err error
	switch req.Action {
	case "init":
		resp, err = m.importInit(r, account, id, req)
	case "ingest":
		resp, err = m.importIngest(r.Context(), account, id, req)
	case "poll":
		resp, err = m.importPoll(r.Context(), account, id, req)
	default:
		err = api.BadRequest(api.CodeBadRequest, `action must be "init", "ingest" or "poll"`)
	}
	if err != nil {
		api.WriteFailure(w, r, err)
		return
	}
	api.WriteResult(w, http.StatusOK, resp, nil)
}

// importInit records an upload and answers its signed URL.
func (m *Module) importInit(r *http.Request, account, id string, req wire.D1ImportRequest) (wire.D1ImportResponse, error) {
	etag := strings.ToLower(req.Etag)
	if !etagRE.MatchString(etag) {
		return wire.D1ImportResponse{}, api.BadRequest(api.CodeBadRequest, "etag must be the MD5 of the file, as 32 hex digits")
	}
	name, err := newFileName()
	if err != nil {
		return wire.D1ImportResponse{}, err
	}
	meta, err := json.Marshal(uploadMeta{Account: account, DB: id, Etag: etag, Created: time.Now().UTC()})
	if err != nil {
		return wire.D1ImportResponse{}, err
	}
	if err := os.WriteFile(m.files.path("upload", name+".json"), meta, 0o600); err != nil {
		return wire.D1ImportResponse{}, fmt.Errorf("d1 import init %s: %w", id, err)
	}
	path := "/d1/files/" + m.deps.NodeID + "/upload/" + name
	return wire.D1ImportResponse{Success: true, Type: "import", Messages: []string{}, Filename: uploadName(m.deps.NodeID, name),
		UploadURL: m.files.signedURL(baseURL(r), path)}, nil
}

// uploadMetaOf reads the record init wrote for upload name.
func (m *Module) uploadMetaOf(name string) (uploadMeta, error) {
	var meta uploadMeta
	b, err := os.ReadFile(m.files.path("upload", name+".json"))
	if err != nil {
		return meta, importNotFound("no import upload %s on this node (never initialized, already ingested, or expired)", name)
	}
	if err := json.Unmarshal(b, &meta); err != nil {
		return meta, fmt.Errorf("d1 import %s: %w", name, err)
	}
	return meta, nil
}

// uploadHandler serves PUT on a signed upload URL: the file, streamed to
// disk while its MD5 is computed; a file whose MD5 is not init's etag is
// dropped.
func (m *Module) uploadHandler(w http.ResponseWriter, r *http.Request) {
	name, err := m.files.verify(r)
	if err != nil {
		api.WriteFailure(w, r, err)
		return
	}
	meta, err := m.uploadMetaOf(name)
	if err != nil {
		api.WriteFailure(w, r, err)
		return
	}
	final := m.files.path("upload", name)
	tmp := final + ".part"
	f, err := os.Create(tmp)
	if err != nil {
		api.WriteFailure(w, r, fmt.Errorf("d1 import upload %s: %w", name, err))
		return
	}
	h := md5.New()
	n, err := io.Copy(io.MultiWriter(f, h), io.LimitReader(r.Body, m.files.maxImport+1))
	err = errors.Join(err, f.Close())
	sum := hex.EncodeToString(h.Sum(nil))
	switch {
	case err == nil && n > m.files.maxImport:
		err = importTooLarge("the file is over this node's import limit of %d bytes", m.files.maxImport)
	case err == nil && sum != meta.Etag:
		err = checksumMismatch("the file's MD5 is %s, but the import was initialized with etag %s", sum, meta.Etag)
	case err == nil:
		err = os.Rename(tmp, final)
	}
	if err != nil {
		_ = os.Remove(tmp)
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			err = importTooLarge("the file is over this node's import limit of %d bytes", m.files.maxImport)
		}
		api.WriteFailure(w, r, err)
		return
	}
	m.log.Info("d1 import upload", "database", meta.DB, "file", name, "bytes", n)
	w.Header().Set("ETag", `"`+sum+`"`)
	api.WriteResult(w, http.StatusOK, map[string]any{"etag": sum, "size": n}, nil)
}

// importIngest applies an uploaded file as one command.
func (m *Module) importIngest(ctx context.Context, account, id string, req wire.D1ImportRequest) (wire.D1ImportResponse, error) {
	node, file, ok := parseUploadName(req.Filename)
	if !ok {
		return wire.D1ImportResponse{}, importNotFound("no import upload %q: not a filename init answered", req.Filename)
	}
	if node != "" && node != m.deps.NodeID {
		// Placement forwards it there; this is a request that already took
		// its one hop.
		return wire.D1ImportResponse{}, importNotFound("import upload %s is on node %s, not on this node", req.Filename, node)
	}
	meta, err := m.uploadMetaOf(file)
	if err != nil {
		return wire.D1ImportResponse{}, err
	}
	if meta.Account != account || meta.DB != id {
		return wire.D1ImportResponse{}, importNotFound("no import upload %s for this database", req.Filename)
	}
	if strings.ToLower(req.Etag) != meta.Etag {
		return wire.D1ImportResponse{}, checksumMismatch("etag %q is not the one the import was initialized with", req.Etag)
	}
	path := m.files.path("upload", file)
	// Taking the file makes a concurrent ingest of it find nothing.
	taken := path + ".ingest"
	if err := os.Rename(path, taken); err != nil {
		return wire.D1ImportResponse{}, importNotFound("upload %s has no file yet (PUT it to the upload URL first), or is being ingested", req.Filename)
	}
	defer func() {
		_ = os.Remove(taken)
		_ = os.Remove(m.files.path("upload", file+".json"))
	}()
	st, err := os.Stat(taken)
	if err != nil {
		return wire.D1ImportResponse{}, fmt.Errorf("d1 import %s: %w", req.Filename, err)
	}
	if st.Size() > MaxImportCommandBytes {
		return wire.D1ImportResponse{}, importTooLarge("the file is %d bytes; one import is applied as one replicated command of at most %d bytes: split the file", st.Size(), MaxImportCommandBytes)
	}
	text, err := os.ReadFile(taken)
	if err != nil {
		return wire.D1ImportResponse{}, fmt.Errorf("d1 import %s: %w", req.Filename, err)
	}
	start := time.Now()
	c, n, err := importCommand(account, id, string(text))
	if err != nil {
		return wire.D1ImportResponse{}, err
	}
	res, err := m.proposeImport(ctx, c)
	if err != nil {
		return wire.D1ImportResponse{}, err
	}
	if res.Error != "" {
		return wire.D1ImportResponse{}, sqlError("%s (in statements %s of the file; nothing was applied)", res.Error, c.chunkRange(res.Failed))
	}
	stats := &wire.D1ImportStats{NumQueries: n, FinalBookmark: FormatBookmark(res.Index)}
	for _, r := range res.Results {
		stats.Meta.RowsRead += r.RowsRead
		stats.Meta.RowsWritten += r.RowsWritten
		stats.Meta.Changes += r.Changes
		stats.Meta.Duration += r.Duration
	}
	stats.Meta.SizeAfter, stats.Meta.ChangedDB = res.SizeAfter, res.ChangedDB
	m.log.Info("d1 import", "database", id, "file", req.Filename, "statements", n, "bookmark", stats.FinalBookmark,
		"duration", time.Since(start))
	return wire.D1ImportResponse{Success: true, Type: "import", Status: "complete", AtBookmark: stats.FinalBookmark,
		Messages: []string{fmt.Sprintf("Imported %d statements", n)}, Result: stats}, nil
}

// importPoll answers the state of the database's imports: an ingest here
// completes within its request, so there is never one running, and poll
// answers "complete" at the bookmark this replica reached (at least
// current_bookmark).
func (m *Module) importPoll(ctx context.Context, account, id string, req wire.D1ImportRequest) (wire.D1ImportResponse, error) {
	d, err := m.readyDatabase(ctx, account, id, req.CurrentBookmark)
	if err != nil {
		return wire.D1ImportResponse{}, err
	}
	at := FormatBookmark(d.applied.Load())
	return wire.D1ImportResponse{Success: true, Type: "import", Status: "complete", AtBookmark: at,
		Messages: []string{"No import is running"}, Result: &wire.D1ImportStats{FinalBookmark: at}}, nil
}

// importCmd is an import's command and, for each of its texts, the range
// of the file's statements it holds.
type importCmd struct {
	command
	firstStmt []int // 1-based index of each text's first statement
	total     int
}

// chunkRange names the statements of the failed text (1-based).
func (c importCmd) chunkRange(failed int) string {
	if failed < 1 || failed > len(c.firstStmt) {
		return "?"
	}
	last := c.total
	if failed < len(c.firstStmt) {
		last = c.firstStmt[failed] - 1
	}
	if c.firstStmt[failed-1] == last {
		return fmt.Sprintf("%d", last)
	}
	return fmt.Sprintf("%d-%d", c.firstStmt[failed-1], last)
}

// importCommand splits, checks and packs a file's statements into one
// command, and returns how many statements it holds.
func importCommand(account, id, text string) (importCmd, int, error) {
	return importCommandWindow(account, id, text, importWindow)
}

// importCommandWindow is importCommand lexing window bytes at a time.
func importCommandWindow(account, id, text string, window int) (importCmd, int, error) {
	c := importCmd{command: command{Account: account, DB: id, Now: time.Now().UnixMilli(), Seed: rand.Uint64()}}
	var cur strings.Builder
	flush := func() {
		if cur.Len() > 0 {
			c.Stmts = append(c.Stmts, cmdStmt{SQL: cur.String()})
			cur.Reset()
		}
	}
	n := 0
	err := splitFile(text, window, func(s statement) error {
		n++
		if _, err := classify(s); err != nil {
			return sqlError("statement %d: %v: SQLITE_AUTH", n, err)
		}
		sql := rewriteCurrent(s)
		if len(sql) > MaxStatementBytes {
			return sqlError("statement %d is %d bytes, the limit is %d: SQLITE_TOOBIG", n, len(sql), MaxStatementBytes)
		}
		if cur.Len() > 0 && cur.Len()+2+len(sql) > MaxStatementBytes {
			flush()
		}
		if cur.Len() == 0 {
			c.firstStmt = append(c.firstStmt, n)
		} else {
			cur.WriteString(";\n")
		}
		cur.WriteString(sql)
		return nil
	})
	if err != nil {
		var he *api.HTTPError
		if errors.As(err, &he) {
			return importCmd{}, 0, err
		}
		return importCmd{}, 0, sqlError("%v: SQLITE_ERROR", err)
	}
	if n == 0 {
		return importCmd{}, 0, sqlError("the file holds no SQL statements: SQLITE_ERROR")
	}
	flush()
	c.total = n
	if len(c.Stmts) > MaxStatements {
		return importCmd{}, 0, importTooLarge("the file packs into %d texts of statements, over the %d of one command: split the file", len(c.Stmts), MaxStatements)
	}
	return c, n, nil
}

// proposeImport checks the command's size against MaxImportCommandBytes
// and proposes it.
func (m *Module) proposeImport(ctx context.Context, c importCmd) (applyResult, error) {
	// The payload as it travels in the Raft log (the binary command form).
	payload := c.command.encode()
	if len(payload) > MaxImportCommandBytes {
		return applyResult{}, importTooLarge("the import is %d bytes as one replicated command, over the %d byte limit: split the file", len(payload), MaxImportCommandBytes)
	}
	return m.proposePayload(ctx, payload)
}
