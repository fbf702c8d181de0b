package d1

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
)

// An import's upload lives on the node that answered init (see ioFiles),
// so the filename init answers names that node: "<node>.<32 hex>.sql".
// An ingest reaching any other node (a load balancer in front of the
// cluster, another EDGE_ENDPOINT) is forwarded to it, as the signed URLs'
// requests are.

// uploadNameRE is the shape of the filename init answers: the node that
// holds the upload (a node id: letters, digits, '.', '-', '_') and the
// file's name there.
var uploadNameRE = regexp.MustCompile(`^([A-Za-z0-9._-]{1,64})\.([0-9a-f]{32}\.sql)$`)

// uploadName is the filename init answers for upload file on node.
func uploadName(node, file string) string { return node + "." + file }

// parseUploadName splits a filename init answered into the node holding the
// upload and the file's name there. A bare file name (as answered before
// filenames named their node) is on this node: node is "".
func parseUploadName(s string) (node, file string, ok bool) {
	if fileNameRE.MatchString(s) {
		return "", s, true
	}
	m := uploadNameRE.FindStringSubmatch(s)
	if m == nil {
		return "", "", false
	}
	return m[1], m[2], true
}

// importHolder places POST .../import: an ingest on the node its filename
// names, every other action (and any body it cannot read) here, where the
// handler answers it. It reads the body, already bounded by the route's
// limit and deadlines, and puts back an equivalent one: the same bytes,
// then the same read error, so the handler or the forwarder sees what the
// client sent.
func (m *Module) importHolder(r *http.Request) ([]string, error) {
	here := []string{m.deps.NodeID}
	if r.Body == nil || r.Body == http.NoBody {
		return here, nil
	}
	body, err := io.ReadAll(r.Body)
	var rest io.Reader = bytes.NewReader(body)
	if err != nil {
		rest = io.MultiReader(rest, errReader{err})
	}
	r.Body = readCloser{Reader: rest, Closer: r.Body}
	if err != nil {
		return here, nil
	}
	var req struct {
		Action   string `json:"action"`
		Filename string `json:"filename"`
	}
	if json.Unmarshal(body, &req) != nil || req.Action != "ingest" {
		return here, nil
	}
	node, _, ok := parseUploadName(req.Filename)
	if !ok || node == "" {
		return here, nil
	}
	return []string{node}, nil
}

// errReader fails every read with err.
type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// readCloser reads from one reader and closes another (the request's body).
type readCloser struct {
	io.Reader
	io.Closer
}
