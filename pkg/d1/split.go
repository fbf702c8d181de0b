package d1

import (
	"errors"
	"fmt"
	"strings"
)

// A small SQL lexer: enough to split a request into statements, tell reads
// from writes and rewrite the CURRENT_* keywords, without being fooled by
// strings, quoted identifiers, comments or trigger bodies.

type tokKind uint8

const (
	tokWord   tokKind = iota // keyword or bare identifier
	tokString                // '...'
	tokIdent                 // "...", `...`, [...]
	tokPunct                 // one character of punctuation
	tokOther                 // numbers, blobs x'..', parameters
)

type token struct {
	kind       tokKind
	text       string
	start, end int
}

// upper is a word's text in upper case ("" for other tokens).
func (t token) upper() string {
	if t.kind != tokWord {
		return ""
	}
	return strings.ToUpper(t.text)
}

var errUnterminated = errors.New("unterminated string, identifier or comment")

// lex splits sql into tokens, skipping whitespace and comments.
func lex(sql string) ([]token, error) {
	var out []token
	i := 0
	for i < len(sql) {
		c := sql[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			i++
		case c == '-' && i+1 < len(sql) && sql[i+1] == '-':
			j := strings.IndexByte(sql[i:], '\n')
			if j < 0 {
				i = len(sql)
			} else {
				i += j + 1
			}
		case c == '/' && i+1 < len(sql) && sql[i+1] == '*':
			j := strings.Index(sql[i+2:], "*/")
			if j < 0 {
				i = len(sql) // SQLite accepts an unterminated comment at the end
			} else {
				i += j + 4
			}
		case c == '\'' || c == '"' || c == '`':
			j, err := quoted(sql, i, c)
			if err != nil {
				return nil, err
			}
			k := tokString
			if c != '\'' {
				k = tokIdent
			}
			out = append(out, token{kind: k, text: sql[i:j], start: i, end: j})
			i = j
		case c == '[':
			j := strings.IndexByte(sql[i:], ']')
			if j < 0 {
				return nil, errUnterminated
			}
			out = append(out, token{kind: tokIdent, text: sql[i : i+j+1], start: i, end: i + j + 1})
			i += j + 1
		case (c == 'x' || c == 'X') && i+1 < len(sql) && sql[i+1] == '\'':
			j, err := quoted(sql, i+1, '\'')
			if err != nil {
				return nil, err
			}
			out = append(out, token{kind: tokOther, text: sql[i:j], start: i, end: j})
			i = j
		case isWordByte(c) && !(c >= '0' && c <= '9'):
			j := i
			for j < len(sql) && isWordByte(sql[j]) {
				j++
			}
			out = append(out, token{kind: tokWord, text: sql[i:j], start: i, end: j})
			i = j
		case c >= '0' && c <= '9' || c == '?' || c == ':' || c == '@' || c == '$':
			j := i + 1
			for j < len(sql) && (isWordByte(sql[j]) || sql[j] == '.') {
				j++
			}
			out = append(out, token{kind: tokOther, text: sql[i:j], start: i, end: j})
			i = j
		default:
			out = append(out, token{kind: tokPunct, text: sql[i : i+1], start: i, end: i + 1})
			i++
		}
	}
	return out, nil
}

func isWordByte(c byte) bool {
	return c == '_' || c == '$' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c >= 0x80
}

// quoted returns the end of the quoted token starting at i with quote q; a
// doubled quote is an escaped one.
func quoted(sql string, i int, q byte) (int, error) {
	for j := i + 1; j < len(sql); j++ {
		if sql[j] == q {
			if j+1 < len(sql) && sql[j+1] == q {
				j++
				continue
			}
			return j + 1, nil
		}
	}
	return 0, errUnterminated
}

// statement is one SQL statement of a request, its text and its tokens.
type statement struct {
	sql  string
	toks []token
}

// splitStatements splits sql at the semicolons that end statements: not
// those inside strings, comments or a CREATE TRIGGER body (which ends at
// END followed by a semicolon). Empty statements are dropped.
func splitStatements(sql string) ([]statement, error) {
	toks, err := lex(sql)
	if err != nil {
		return nil, err
	}
	var out []statement
	begin := 0 // first token of the current statement
	flush := func(end int) {
		if end > begin {
			ts := toks[begin:end]
			out = append(out, statement{sql: strings.TrimSpace(sql[ts[0].start:ts[len(ts)-1].end]), toks: rebase(ts)})
		}
	}
	for _, i := range statementEnds(toks) {
		flush(i)
		begin = i + 1
	}
	flush(len(toks))
	return out, nil
}

// statementEnds returns the indexes of the semicolon tokens that end a
// statement: not those inside a CREATE TRIGGER body. In a trigger body,
// END closes a CASE while one is open; the END that closes the body is the
// one a semicolon may follow.
func statementEnds(toks []token) []int {
	var ends []int
	begin, cases, bodyEnded := 0, 0, false
	for i, t := range toks {
		switch t.upper() {
		case "CASE":
			cases++
		case "END":
			if cases > 0 {
				cases--
			} else {
				bodyEnded = true
			}
		}
		if t.kind != tokPunct || t.text != ";" {
			if t.upper() != "END" {
				bodyEnded = false
			}
			continue
		}
		if isTrigger(toks[begin:i]) && !bodyEnded {
			continue
		}
		ends = append(ends, i)
		begin, cases, bodyEnded = i+1, 0, false
	}
	return ends
}

// rebase copies tokens with offsets relative to the first one.
func rebase(ts []token) []token {
	out := make([]token, len(ts))
	base := ts[0].start
	for i, t := range ts {
		t.start -= base
		t.end -= base
		out[i] = t
	}
	return out
}

// isTrigger reports whether a statement is CREATE [TEMP|TEMPORARY] TRIGGER.
func isTrigger(ts []token) bool {
	if len(ts) < 2 || ts[0].upper() != "CREATE" {
		return false
	}
	w := ts[1].upper()
	if (w == "TEMP" || w == "TEMPORARY") && len(ts) > 2 {
		w = ts[2].upper()
	}
	return w == "TRIGGER"
}

// stmtKind says how a statement is served.
type stmtKind uint8

const (
	kindRead  stmtKind = iota // served by any replica
	kindWrite                 // one Raft command through the leader
)

// readPragmas are the pragmas a query may read (never assign).
var readPragmas = map[string]bool{
	"TABLE_INFO": true, "TABLE_XINFO": true, "TABLE_LIST": true, "INDEX_LIST": true, "INDEX_INFO": true,
	"INDEX_XINFO": true, "FOREIGN_KEY_LIST": true, "FOREIGN_KEY_CHECK": true, "QUICK_CHECK": true,
	"INTEGRITY_CHECK": true, "COLLATION_LIST": true, "FOREIGN_KEYS": true, "DEFER_FOREIGN_KEYS": true,
	"USER_VERSION": true, "PAGE_COUNT": true, "PAGE_SIZE": true, "FREELIST_COUNT": true,
}

// classify says whether a statement only reads. It errs towards writing: a
// statement it calls a read runs on a query_only connection, where a write
// fails and the request is retried as a write. Statements D1 does not
// allow (transactions, ATTACH, VACUUM, setting pragmas, internal tables)
// are an error.
func classify(s statement) (stmtKind, error) {
	ts := s.toks
	if len(ts) == 0 {
		return kindRead, nil
	}
	first := ts[0].upper()
	switch first {
	case "SELECT", "VALUES", "EXPLAIN":
		return kindRead, nil
	case "WITH":
		depth := 0
		for _, t := range ts[1:] {
			switch {
			case t.kind == tokPunct && t.text == "(":
				depth++
			case t.kind == tokPunct && t.text == ")":
				depth--
			case depth == 0:
				switch t.upper() {
				case "SELECT", "VALUES":
					return kindRead, nil
				case "INSERT", "UPDATE", "DELETE", "REPLACE":
					return kindWrite, checkInternal(ts)
				}
			}
		}
		return kindWrite, checkInternal(ts)
	case "PRAGMA":
		if len(ts) < 2 {
			return 0, errNotAuthorized("PRAGMA")
		}
		name := ts[1].upper()
		if len(ts) > 3 && ts[2].text == "." { // schema.pragma
			name = ts[3].upper()
		}
		assigns := false
		for _, t := range ts {
			if t.kind == tokPunct && t.text == "=" {
				assigns = true
			}
		}
		switch {
		case name == "DEFER_FOREIGN_KEYS" && assigns:
			return kindWrite, nil
		case readPragmas[name] && !assigns:
			return kindRead, nil
		}
		return 0, errNotAuthorized("PRAGMA " + strings.ToLower(name))
	case "BEGIN", "COMMIT", "END":
		return 0, fmt.Errorf("%s: transactions are not allowed; send the statements as one request or batch, which runs as one transaction: not authorized", first)
	case "ROLLBACK":
		if len(ts) > 1 && (ts[1].upper() == "TO" || len(ts) > 2 && ts[2].upper() == "TO") {
			return kindWrite, nil
		}
		return 0, fmt.Errorf("ROLLBACK: transactions are not allowed; a failing statement rolls back its whole request: not authorized")
	case "ATTACH", "DETACH", "VACUUM":
		return 0, errNotAuthorized(first)
	case "CREATE":
		// Temporary objects would live on one node's write connection,
		// between commands and not across restarts: replicas would differ.
		if len(ts) > 1 && (ts[1].upper() == "TEMP" || ts[1].upper() == "TEMPORARY") {
			return 0, errNotAuthorized("CREATE " + ts[1].upper())
		}
	}
	return kindWrite, checkInternal(ts)
}

func errNotAuthorized(what string) error {
	return fmt.Errorf("%s: not authorized", what)
}

// internalPrefix names the tables D1 keeps for itself inside each database.
const internalPrefix = "_cf_"

// checkInternal refuses a write that names an internal table.
func checkInternal(ts []token) error {
	for _, t := range ts {
		name := t.text
		if t.kind == tokIdent && len(name) >= 2 {
			name = name[1 : len(name)-1]
		} else if t.kind != tokWord {
			continue
		}
		if strings.HasPrefix(strings.ToLower(name), internalPrefix) {
			return fmt.Errorf("access to %s is not allowed: tables named %s* are internal: not authorized", name, internalPrefix)
		}
	}
	return nil
}

// currentKeywords maps the CURRENT_* keywords, which SQLite evaluates from
// the system clock, to the same values from the date functions, which a
// write's deterministic function set overrides.
var currentKeywords = map[string]string{
	"CURRENT_TIMESTAMP": "(datetime('now'))",
	"CURRENT_DATE":      "(date('now'))",
	"CURRENT_TIME":      "(time('now'))",
}

// rewriteCurrent replaces the CURRENT_* keywords of a write statement by
// date function calls, so that DEFAULT CURRENT_TIMESTAMP and every other
// use read the command's clock on every replica.
func rewriteCurrent(s statement) string {
	var b strings.Builder
	last := 0
	for _, t := range s.toks {
		if r, ok := currentKeywords[t.upper()]; ok {
			b.WriteString(s.sql[last:t.start])
			b.WriteString(r)
			last = t.end
		}
	}
	if last == 0 {
		return s.sql
	}
	b.WriteString(s.sql[last:])
	return b.String()
}
