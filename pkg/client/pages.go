package client

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
)

// maxListPages bounds every list that follows pages to the end.
const maxListPages = 10_000

// listAll GETs path page by page (query q plus page and per_page) and
// returns every item. It stops at a short page or once the server's
// total_count is reached; past maxListPages it is an error, never a
// silently cut list. what names the list in errors.
func listAll[T any](ctx context.Context, c *Client, what, path string, q url.Values, perPage int) ([]T, error) {
	all := []T{}
	for page := 1; page <= maxListPages; page++ {
		pq := url.Values{}
		for k, v := range q {
			pq[k] = v
		}
		pq.Set("page", strconv.Itoa(page))
		pq.Set("per_page", strconv.Itoa(perPage))
		var got []T
		info, err := c.Do(ctx, http.MethodGet, path+"?"+pq.Encode(), nil, &got)
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", what, err)
		}
		all = append(all, got...)
		if len(got) < perPage || (info != nil && info.TotalCount > 0 && len(all) >= info.TotalCount) {
			return all, nil
		}
	}
	return nil, fmt.Errorf("list %s: %w: more than %d pages", what, ErrBadResponse, maxListPages)
}
