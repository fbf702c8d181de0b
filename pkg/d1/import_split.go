package d1

// Splitting an import file a window at a time. splitStatements lexes its
// whole input into tokens (about 40 bytes each, a dozen per row of a dump)
// and keeps them: for a file of tens of megabytes that is gigabytes. An
// import only needs each statement once, so the file is split a window at
// a time: lex the window, find its last statement boundary (a semicolon
// that ends a statement, by the same rules as splitStatements, CREATE
// TRIGGER bodies included), split up to there, and go on from there. A
// window with no boundary, or one that ends inside a string, identifier or
// comment, is doubled. Tokens before a boundary are the same as when
// lexing the whole file, since lexing runs left to right and a token
// cannot span a semicolon that is itself a token.

// importWindow is how much of a file is lexed at once (it doubles for a
// statement longer than that).
const importWindow = 1 << 20

// splitFile calls fn with each statement of text, in order, as
// splitStatements(text) would give them.
func splitFile(text string, window int, fn func(statement) error) error {
	for pos := 0; pos < len(text); {
		for size := max(window, 1); ; size *= 2 {
			end := min(pos+size, len(text))
			cut, err := lastBoundary(text[pos:end], end == len(text))
			if err != nil {
				return err
			}
			if cut == 0 {
				continue // no complete statement yet: a larger window
			}
			stmts, err := splitStatements(text[pos : pos+cut])
			if err != nil {
				return err
			}
			for _, s := range stmts {
				if err := fn(s); err != nil {
					return err
				}
			}
			pos += cut
			break
		}
	}
	return nil
}

// lastBoundary returns the length of chunk's prefix that ends with its last
// complete statement: the end of the last semicolon that ends a statement,
// or all of chunk when it is the end of the file. 0 means no statement
// ends in chunk (or it ends inside a token): read more.
func lastBoundary(chunk string, eof bool) (int, error) {
	toks, err := lex(chunk)
	if err != nil {
		if eof {
			return 0, err
		}
		return 0, nil
	}
	if eof {
		return len(chunk), nil
	}
	ends := statementEnds(toks)
	if len(ends) == 0 {
		return 0, nil
	}
	return toks[ends[len(ends)-1]].end, nil
}
