package client

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// ChoiceTTL is how long a remembered endpoint choice is reused before the
// endpoints are ranked again.
const ChoiceTTL = 10 * time.Minute

// WithChoiceFile makes the client remember, in a small file under dir, the
// endpoint it picked for its endpoint list, and reuse it on the next
// process's first call while it is younger than ChoiceTTL and still
// answers. Consecutive commands with the same list then reach the same
// node even when round trips are too close to tell apart (a put followed
// by a get reads its own write). An empty dir turns it off.
func WithChoiceFile(dir string) Option {
	return func(s *settings) { s.choiceDir = dir }
}

// choicePath is the file remembering the choice for endpoints.
func choicePath(dir string, endpoints []string) string {
	sum := sha256.Sum256([]byte(strings.Join(endpoints, "\n")))
	return filepath.Join(dir, "endpoint-"+hex.EncodeToString(sum[:8]))
}

// rememberedChoice returns the endpoint remembered for the client's list
// when it is fresh, one of the list and answers a probe now.
func (c *Client) rememberedChoice(ctx context.Context) string {
	if c.choiceDir == "" || len(c.endpoints) < 2 {
		return ""
	}
	path := choicePath(c.choiceDir, c.endpoints)
	fi, err := os.Stat(path)
	if err != nil || time.Since(fi.ModTime()) > ChoiceTTL {
		return ""
	}
	b, err := os.ReadFile(path)
	ep := strings.TrimSpace(string(b))
	if err != nil || !slices.Contains(c.endpoints, ep) {
		return ""
	}
	if _, _, err := probe(ctx, c.hc, ep); err != nil {
		return ""
	}
	return ep
}

// rememberChoice records ep for the client's endpoint list (best effort:
// a read-only cache directory only loses the memory).
func (c *Client) rememberChoice(ep string) {
	if c.choiceDir == "" || len(c.endpoints) < 2 {
		return
	}
	if err := os.MkdirAll(c.choiceDir, 0o700); err != nil {
		return
	}
	path := choicePath(c.choiceDir, c.endpoints)
	tmp := path + ".tmp"
	if os.WriteFile(tmp, []byte(ep+"\n"), 0o600) == nil {
		_ = os.Rename(tmp, path)
	}
}
