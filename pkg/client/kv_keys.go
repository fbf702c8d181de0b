package client

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
)

// ListKeys returns one page of the keys of namespace ns. The next page's
// cursor is taken from result_info.cursor, or cursors.after when the
// server sends only that; it is empty when the list is complete.
func (k *KV) ListKeys(ctx context.Context, ns string, opts KVListOptions) (KVKeyPage, error) {
	q := url.Values{}
	if opts.Prefix != "" {
		q.Set("prefix", opts.Prefix)
	}
	if opts.Cursor != "" {
		q.Set("cursor", opts.Cursor)
	}
	if opts.Limit > 0 {
		q.Set("limit", strconv.Itoa(opts.Limit))
	}
	path := k.nsPath(ns, "/keys")
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	var keys []KVKey
	info, err := k.c.Do(ctx, http.MethodGet, path, nil, &keys)
	if err != nil {
		return KVKeyPage{}, fmt.Errorf("list kv keys: %w", err)
	}
	page := KVKeyPage{Keys: keys}
	if page.Keys == nil {
		page.Keys = []KVKey{}
	}
	if info != nil {
		switch {
		case info.Cursor != nil && *info.Cursor != "":
			page.Cursor = *info.Cursor
		case info.Cursors != nil:
			page.Cursor = info.Cursors.After
		}
	}
	return page, nil
}

// ListAllKeys pages through the keys of namespace ns that start with
// prefix, limit keys per page (zero for the server's default), calling fn
// for each page until the cursor is empty, fn fails, or maxPages pages
// were read (an error: a server that never ends its list).
func (k *KV) ListAllKeys(ctx context.Context, ns, prefix string, limit, maxPages int, fn func(KVKeyPage) error) error {
	cursor := ""
	for i := 0; i < maxPages; i++ {
		page, err := k.ListKeys(ctx, ns, KVListOptions{Prefix: prefix, Cursor: cursor, Limit: limit})
		if err != nil {
			return err
		}
		if err := fn(page); err != nil {
			return err
		}
		if page.Cursor == "" {
			return nil
		}
		if page.Cursor == cursor {
			return fmt.Errorf("list kv keys: %w: cursor %q repeated", ErrBadResponse, cursor)
		}
		cursor = page.Cursor
	}
	return fmt.Errorf("list kv keys: %w: more than %d pages", ErrBadResponse, maxPages)
}
