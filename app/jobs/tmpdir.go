package jobs

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// tempPrefixes are the names workers give their scratch files and
// directories under WORKER_TMP_DIR.
var tempPrefixes = []string{"object-", "url-", "audio-"}

// SweepTemp removes scratch entries older than olderThan from dir: what a
// killed worker could not clean up. Attempts remove their own files, and
// no attempt outlives the job timeout, so anything older is an orphan.
// Other files in dir are never touched.
func SweepTemp(dir string, olderThan time.Duration) (int, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0, fmt.Errorf("read temp dir: %w", err)
	}
	n := 0
	for _, e := range entries {
		if !hasAnyPrefix(e.Name(), tempPrefixes) {
			continue
		}
		info, err := e.Info()
		if err != nil || time.Since(info.ModTime()) < olderThan {
			continue
		}
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			return n, fmt.Errorf("remove %s: %w", e.Name(), err)
		}
		n++
	}
	return n, nil
}

func hasAnyPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}
