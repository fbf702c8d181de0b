package d1

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/edgeplane/edgeplane/pkg/service"
)

func TestUploadNameNamesItsNode(t *testing.T) {
	file, err := newFileName()
	if err != nil {
		t.Fatal(err)
	}
	for _, node := range []string{"n1", "edge-fra.2", "a.b.c", "A_b-9", strings.Repeat("x", 64)} {
		gotNode, gotFile, ok := parseUploadName(uploadName(node, file))
		if !ok || gotNode != node || gotFile != file {
			t.Errorf("node %q: parsed %q %q %v", node, gotNode, gotFile, ok)
		}
	}
	// A bare file name is this node's; anything else is no filename.
	if n, f, ok := parseUploadName(file); !ok || n != "" || f != file {
		t.Errorf("bare name: %q %q %v", n, f, ok)
	}
	for _, bad := range []string{"", file + "x", "n1/" + file, "n1." + strings.ToUpper(file), strings.Repeat("x", 65) + "." + file,
		"../" + file, "n1..sql", "n 1." + file, "n1." + file + "\n"} {
		if n, f, ok := parseUploadName(bad); ok {
			t.Errorf("%q parsed as %q %q", bad, n, f)
		}
	}
}

func TestImportHolderPlacesIngestOnTheUploadsNode(t *testing.T) {
	m := &Module{deps: service.Deps{NodeID: "here"}}
	file, _ := newFileName()
	for _, tc := range []struct {
		body string
		want string
	}{
		{`{"action":"ingest","etag":"x","filename":"` + uploadName("there", file) + `"}`, "there"},
		{`{"action":"ingest","etag":"x","filename":"` + uploadName("here", file) + `"}`, "here"},
		{`{"action":"ingest","filename":"` + file + `"}`, "here"},
		{`{"action":"init","filename":"` + uploadName("there", file) + `"}`, "here"},
		{`{"action":"ingest","filename":"there/../x"}`, "here"},
		{`not json`, "here"},
		{``, "here"},
	} {
		r := httptest.NewRequest(http.MethodPost, "/import", strings.NewReader(tc.body))
		holders, err := m.importHolder(r)
		if err != nil || len(holders) != 1 || holders[0] != tc.want {
			t.Errorf("%s: holders %v, %v; want %s", tc.body, holders, err, tc.want)
		}
		// The handler (or the forwarder) still reads the whole body.
		if b, err := io.ReadAll(r.Body); err != nil || string(b) != tc.body {
			t.Errorf("%s: body after placement %q, %v", tc.body, b, err)
		}
	}

	// A body that failed to read (over the route's limit, too slow) fails
	// the same way for the handler, after the bytes that did arrive.
	r := httptest.NewRequest(http.MethodPost, "/import", nil)
	r.Body = http.MaxBytesReader(httptest.NewRecorder(), io.NopCloser(bytes.NewReader([]byte(`{"action":"ingest"}`))), 5)
	if holders, _ := m.importHolder(r); len(holders) != 1 || holders[0] != "here" {
		t.Errorf("unreadable body placed on %v", holders)
	}
	b, err := io.ReadAll(r.Body)
	var mbe *http.MaxBytesError
	if string(b) != `{"act` || !errors.As(err, &mbe) {
		t.Errorf("body after placement %q, %v; want the first 5 bytes and the limit's error", b, err)
	}
}
