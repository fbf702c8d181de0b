package d1_test

import (
	"os"
	"path/filepath"
)

// osReadDir lists every file below dir (names only).
func osReadDir(dir string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			out = append(out, d.Name())
		}
		return nil
	})
	return out, err
}
