package do

import (
	"testing"

	"github.com/edgeplane/edgeplane/pkg/catalog"
)

// The API checks websocket_history on create and PATCH, but the catalog
// holds whatever a member proposed through Raft: a value no API would
// accept reads as 0 or the limit, never a room larger than it can keep.
func TestWebsocketHistoryReadsAnyStoredValueWithinTheLimit(t *testing.T) {
	for stored, want := range map[string]int{
		"": 0, "abc": 0, "-5": 0, "7": 7, "1000": MaxWebsocketHistory, "99999999": MaxWebsocketHistory,
		"99999999999999999999999": 0, // not an int
	} {
		r := catalog.Resource{Attrs: map[string]string{attrWebsocketHistory: stored}}
		if got := WebsocketHistory(r); got != want {
			t.Errorf("stored %q: %d, want %d", stored, got, want)
		}
	}
	if err := validateAttrs(map[string]string{attrWebsocketHistory: "1001"}); err == nil {
		t.Error("the API accepts a history over the limit")
	}
}
