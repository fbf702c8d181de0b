package wire

import "encoding/json"

// Envelope is the Cloudflare API v4 response envelope that wraps every
// response of the public API, successful or not.
type Envelope struct {
	Success    bool            `json:"success"`
	Errors     []Error         `json:"errors"`
	Messages   []Message       `json:"messages"`
	Result     json.RawMessage `json:"result"`
	ResultInfo *ResultInfo     `json:"result_info,omitempty"`
}

// Error is one entry of an envelope's errors array.
type Error struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// Message is one entry of an envelope's messages array.
type Message struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// ResultInfo carries paging information for list results. Page-based lists
// fill Page, PerPage, Count and TotalCount; cursor-based lists fill Count,
// Cursor and Cursors.
type ResultInfo struct {
	Page       int      `json:"page,omitempty"`
	PerPage    int      `json:"per_page,omitempty"`
	Count      int      `json:"count"`
	TotalCount int      `json:"total_count,omitempty"`
	Cursor     *string  `json:"cursor,omitempty"`
	Cursors    *Cursors `json:"cursors,omitempty"`
}

// Cursors is the cursor-pagination block of ResultInfo.
type Cursors struct {
	After string `json:"after"`
}
