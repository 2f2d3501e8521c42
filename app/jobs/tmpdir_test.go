package jobs

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// Ensure the sweep removes only old scratch entries of workers.
func TestSweepTempRemovesOnlyOldScratch(t *testing.T) {
	dir := t.TempDir()
	old := time.Now().Add(-2 * time.Hour)
	mk := func(name string, dirEntry bool, mtime time.Time) {
		p := filepath.Join(dir, name)
		if dirEntry {
			if err := os.Mkdir(p, 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(p, "seg-000.mp3"), []byte("x"), 0o600); err != nil {
				t.Fatal(err)
			}
		} else if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	mk("object-111", false, old)
	mk("audio-222", true, old)
	mk("url-333", false, time.Now()) // a running attempt's file
	mk("keep.txt", false, old)       // not ours
	n, err := SweepTemp(dir, time.Hour)
	if err != nil || n != 2 {
		t.Fatalf("removed %d, %v; want 2", n, err)
	}
	for name, want := range map[string]bool{"object-111": false, "audio-222": false, "url-333": true, "keep.txt": true} {
		if _, err := os.Stat(filepath.Join(dir, name)); (err == nil) != want {
			t.Errorf("%s exists=%v, want %v", name, err == nil, want)
		}
	}
}
