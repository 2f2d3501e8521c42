package ingest

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/course-supporter/course-supporter/app/internal/llmtest"
	"github.com/course-supporter/course-supporter/app/internal/testfiles"
)

// fakeDownloader writes a shell script standing in for yt-dlp: it records
// its arguments and copies src to the output path it is given last.
func fakeDownloader(t *testing.T, src string) (cmd []string, argsFile string) {
	t.Helper()
	dir := t.TempDir()
	argsFile = filepath.Join(dir, "args")
	script := filepath.Join(dir, "dl.sh")
	body := "#!/bin/sh\nprintf '%s\\n' \"$@\" > " + argsFile + "\n"
	if src != "" {
		body += "eval out=\\${$#}\ncp " + src + " \"$out\"\n"
	}
	if err := os.WriteFile(script, []byte(body), 0o700); err != nil {
		t.Fatal(err)
	}
	return []string{script, "--audio-only"}, argsFile
}

// Ensure a video-platform URL goes through VIDEO_DOWNLOADER_CMD (URL and
// output path appended, no shell), its file is transcribed and hashed, and
// a platform URL without a downloader, an empty or an oversized download
// fail permanently.
func TestPlatformVideoDownloader(t *testing.T) {
	clip := testfiles.Clip(t, 3, true)
	tr := testfiles.NewTranscription(t, "sk-test")
	p := &Processor{TmpDir: t.TempDir(), VideoPlatforms: []string{"youtube.com"},
		Transcriber: &Transcriber{LLM: llmtest.Router(t, tr.URL+"/v1", "sk-test", nil)}}
	src := Source{Type: "video", URL: "https://www.youtube.com/watch?v=abc;rm -rf /"}

	if _, _, err := p.URL(context.Background(), src); !IsPermanent(err) || err.Error() != MsgPlatformVideo {
		t.Fatalf("no downloader: %v", err)
	}
	cmd, argsFile := fakeDownloader(t, clip)
	p.Downloader = &Downloader{Command: cmd, MaxBytes: 1 << 30}
	doc, raw, err := p.URL(context.Background(), src)
	if err != nil || len(doc.Chunks) == 0 || doc.Chunks[0].ChunkType != ChunkTranscript || raw.Size == 0 || len(raw.SHA256) != 64 {
		t.Fatalf("download: %v %+v %+v", err, doc, raw)
	}
	args, _ := os.ReadFile(argsFile)
	lines := strings.Split(strings.TrimSpace(string(args)), "\n")
	if len(lines) != 3 || lines[0] != "--audio-only" || lines[1] != src.URL || !strings.HasPrefix(lines[2], p.TmpDir) {
		t.Fatalf("downloader got %q", lines)
	}
	if entries, _ := os.ReadDir(p.TmpDir); len(entries) != 0 {
		t.Fatalf("temp files left: %v", entries)
	}

	p.Downloader.MaxBytes = 100
	if _, _, err := p.URL(context.Background(), src); !IsPermanent(err) || err.Error() != MsgDownloadTooLarge {
		t.Fatalf("oversized: %v", err)
	}
	empty, _ := fakeDownloader(t, "")
	p.Downloader = &Downloader{Command: empty, MaxBytes: 1 << 30}
	if _, _, err := p.URL(context.Background(), src); !IsPermanent(err) || err.Error() != MsgDownloadEmpty {
		t.Fatalf("no file: %v", err)
	}
}
