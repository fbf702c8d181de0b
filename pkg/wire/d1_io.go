package wire

// D1's export, import and read replication shapes: Cloudflare's, as the
// database endpoints take and answer them (the result of the v4 envelope).

// D1ExportRequest is the body of POST .../d1/database/{id}/export.
type D1ExportRequest struct {
	// OutputFormat must be "polling" (Cloudflare's only format).
	OutputFormat string `json:"output_format"`
	// CurrentBookmark, when set, makes the export reflect at least that
	// bookmark (and, on Cloudflare, resumes polling an export).
	CurrentBookmark string `json:"current_bookmark,omitempty"`
	// DumpOptions narrows the dump.
	DumpOptions D1DumpOptions `json:"dump_options"`
}

// D1DumpOptions narrows an export: no data (schema only), no schema (data
// only), or some tables only.
type D1DumpOptions struct {
	NoData   bool     `json:"no_data,omitempty"`
	NoSchema bool     `json:"no_schema,omitempty"`
	Tables   []string `json:"tables,omitempty"`
}

// D1ExportResponse is the result of an export: "complete" with the dump's
// file name and a signed URL to download it (no token needed, valid for an
// hour), or "error".
type D1ExportResponse struct {
	Success    bool     `json:"success"`
	Type       string   `json:"type"`
	Status     string   `json:"status"`
	AtBookmark string   `json:"at_bookmark"`
	Messages   []string `json:"messages"`
	Error      string   `json:"error,omitempty"`
	Result     struct {
		Filename  string `json:"filename"`
		SignedURL string `json:"signed_url"`
	} `json:"result"`
}

// D1ImportRequest is the body of POST .../d1/database/{id}/import: action
// "init" (etag: the MD5 hex of the file), "ingest" (etag and the filename
// init answered) or "poll" (current_bookmark).
type D1ImportRequest struct {
	Action          string `json:"action"`
	Etag            string `json:"etag,omitempty"`
	Filename        string `json:"filename,omitempty"`
	CurrentBookmark string `json:"current_bookmark,omitempty"`
}

// D1ImportResponse is the result of an import action. init answers
// upload_url and filename; ingest and poll answer status "complete" with
// the result of the whole file, or "error".
type D1ImportResponse struct {
	Success    bool           `json:"success"`
	Type       string         `json:"type"`
	Status     string         `json:"status,omitempty"`
	AtBookmark string         `json:"at_bookmark,omitempty"`
	Messages   []string       `json:"messages"`
	Error      string         `json:"error,omitempty"`
	UploadURL  string         `json:"upload_url,omitempty"`
	Filename   string         `json:"filename,omitempty"`
	Result     *D1ImportStats `json:"result,omitempty"`
}

// D1ImportStats is what an ingest did: how many statements ran, the
// bookmark of the state after them, and their totals.
type D1ImportStats struct {
	NumQueries    int    `json:"num_queries"`
	FinalBookmark string `json:"final_bookmark"`
	Meta          struct {
		Duration    float64 `json:"duration"`
		RowsRead    int64   `json:"rows_read"`
		RowsWritten int64   `json:"rows_written"`
		SizeAfter   int64   `json:"size_after"`
		ChangedDB   bool    `json:"changed_db"`
		Changes     int64   `json:"changes"`
	} `json:"meta"`
}

// D1ReadReplication is the body of PUT and PATCH .../d1/database/{id}:
// {"read_replication": {"mode": "auto" | "disabled"}}.
type D1ReadReplication struct {
	ReadReplication *struct {
		Mode string `json:"mode"`
	} `json:"read_replication"`
}
