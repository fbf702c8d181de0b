package router

import (
	"net/http"

	"github.com/edgeplane/edgeplane/pkg/api"
)

// writeError answers with the API's v4 error envelope. retry=false adds
// "x-should-retry: false", which the Cloudflare SDKs honour.
func writeError(w http.ResponseWriter, status, code int, msg string, retry bool) {
	if !retry {
		w.Header().Set("X-Should-Retry", "false")
	}
	api.WriteError(w, status, code, msg)
}
