package do

import (
	"net/http/httptest"
	"testing"
)

// The service's own keys (a room's history) begin with a NUL byte: a user
// can neither write, read nor list them.
func TestReservedKeysAreOutOfUsersReach(t *testing.T) {
	if err := checkKey(historyKey(1)); err == nil {
		t.Fatal("a history key passed as a user key")
	}
	if err := checkKey("\x01first"); err != nil {
		t.Fatalf("the first user key range: %v", err)
	}
	for _, tc := range []struct{ query, start, startAfter string }{
		{"", userKeysStart, ""},
		{"?start=%00", userKeysStart, ""},
		{"?startAfter=%00ws%2F1", userKeysStart, ""},
		{"?start=a", "a", ""},
		{"?startAfter=a", "", "a"},
	} {
		opts, err := listOptions(httptest.NewRequest("GET", "/x"+tc.query, nil))
		if err != nil || opts.Start != tc.start || opts.StartAfter != tc.startAfter {
			t.Errorf("list %q: start %q startAfter %q (%v), want %q %q", tc.query, opts.Start, opts.StartAfter, err, tc.start, tc.startAfter)
		}
	}
	if _, err := listOptions(httptest.NewRequest("GET", "/x?prefix=%00ws", nil)); err == nil {
		t.Fatal("a listing of the reserved prefix was accepted")
	}
}
