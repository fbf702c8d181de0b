package api

import (
	"net/http"
	"strconv"

	"github.com/edgeplane/edgeplane/pkg/wire"
)

// Paging bounds of page-numbered lists.
const (
	// DefaultPerPage is the page size when per_page is absent.
	DefaultPerPage = 20
	// MaxPerPage is the largest per_page accepted (wrangler asks for 1000).
	MaxPerPage = 1000
	// maxPage keeps (page-1)*perPage far from overflowing.
	maxPage = 1 << 30
)

// ParsePage reads the page and per_page query parameters: page defaults to
// 1, per_page to DefaultPerPage. A value that is not an integer, a page
// below 1, or a per_page outside 1..MaxPerPage is a 400 (*HTTPError
// wrapping ErrBadRequest, ready for WriteFailure).
func ParsePage(r *http.Request) (page, perPage int, err error) {
	q := r.URL.Query()
	page, err = intParam(q.Get("page"), "page", 1, 1, maxPage)
	if err != nil {
		return 0, 0, err
	}
	perPage, err = intParam(q.Get("per_page"), "per_page", DefaultPerPage, 1, MaxPerPage)
	if err != nil {
		return 0, 0, err
	}
	return page, perPage, nil
}

// intParam parses one integer query parameter; empty means def.
func intParam(raw, name string, def, lo, hi int) (int, error) {
	if raw == "" {
		return def, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < lo || n > hi {
		return 0, BadRequest(CodeBadRequest, "%s must be an integer from %d to %d", name, lo, hi)
	}
	return n, nil
}

// Paginate returns page number page (1-based) of items with perPage items a
// page, and its result_info. Past the end the page is empty (never nil), so
// SDK auto-pagers stop. Out-of-range arguments are clamped to the defaults.
func Paginate[T any](items []T, page, perPage int) ([]T, *wire.ResultInfo) {
	if page < 1 {
		page = 1
	}
	if perPage < 1 {
		perPage = DefaultPerPage
	}
	total := len(items)
	out := []T{}
	pages := total / perPage
	if total%perPage != 0 {
		pages++
	}
	// Compare page numbers before multiplying, so nothing can overflow.
	if page <= pages {
		start := (page - 1) * perPage
		end := min(start+perPage, total)
		out = append(out, items[start:end]...)
	}
	return out, &wire.ResultInfo{Page: page, PerPage: perPage, Count: len(out), TotalCount: total}
}
