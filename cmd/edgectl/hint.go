package main

import (
	"errors"
	"net/http"

	"github.com/edgeplane/edgeplane/pkg/client"
)

// withHint adds what to do to errors whose fix lies with the user: a 401
// names the token settings (edged's own message only says "Authentication
// error").
func (a *app) withHint(err error) string {
	msg := oneLine(err.Error())
	var apiErr *client.APIError
	if errors.As(err, &apiErr) && apiErr.Status == http.StatusUnauthorized {
		if a.token == "" {
			return msg + " (no token given: set EDGE_TOKEN or pass --token; edged prints the admin token " +
				"at its first start and keeps it in <data-dir>/admin-token)"
		}
		return msg + " (the token was refused: check EDGE_TOKEN or --token; the admin token is in edged's " +
			"<data-dir>/admin-token)"
	}
	return msg
}
