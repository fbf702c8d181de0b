package wire

// D1Database is a D1 database as the database endpoints return it.
type D1Database struct {
	UUID                string `json:"uuid"`
	Name                string `json:"name"`
	CreatedAt           string `json:"created_at"`
	Version             string `json:"version"`
	NumTables           int    `json:"num_tables"`
	FileSize            int64  `json:"file_size"`
	PrimaryLocationHint string `json:"primary_location_hint,omitempty"`
	ReadReplication     struct {
		Mode string `json:"mode"`
	} `json:"read_replication"`
}

// D1Meta is the meta object of one statement's result.
type D1Meta struct {
	ChangedDB       bool    `json:"changed_db"`
	Changes         int64   `json:"changes"`
	Duration        float64 `json:"duration"`
	LastRowID       int64   `json:"last_row_id"`
	RowsRead        int64   `json:"rows_read"`
	RowsWritten     int64   `json:"rows_written"`
	SizeAfter       int64   `json:"size_after"`
	ServedByPrimary bool    `json:"served_by_primary"`
	ServedByRegion  string  `json:"served_by_region"`
	ServedByNode    string  `json:"served_by_node"`
	Bookmark        string  `json:"bookmark"`
	Timings         struct {
		SQLDurationMS float64 `json:"sql_duration_ms"`
	} `json:"timings"`
}

// D1RawResults is the results of one statement from /raw: columns and rows.
type D1RawResults struct {
	Columns []string `json:"columns"`
	Rows    [][]any  `json:"rows"`
}
