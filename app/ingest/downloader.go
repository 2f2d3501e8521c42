package ingest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// Messages of the downloader command.
const (
	MsgDownloadTooLarge = "Downloaded media exceeds the upload size limit"
	MsgDownloadEmpty    = "The video platform download produced no file"
	// MsgDownloadTooSlow is a format of the minimum rate in bytes per second.
	MsgDownloadTooSlow = "Download too slow: below %d bytes per second"
)

// EnvDownloadMaxBytes is the variable that tells VIDEO_DOWNLOADER_CMD the
// size limit, for a downloader that can stop by itself (yt-dlp
// --max-filesize); the limit is enforced either way.
const EnvDownloadMaxBytes = "DOWNLOAD_MAX_BYTES"

// Downloader runs the operator's VIDEO_DOWNLOADER_CMD for video-platform
// URLs (docs/design/jobs.md, "Ingest"): the command's words, then the URL and the output
// path as two more arguments, never through a shell. The command is
// trusted configuration; the URL is a validated absolute http(s) URL, so it
// cannot be mistaken for an option.
//
// The command runs in a process group of its own, with MaxBytes in its
// environment as DOWNLOAD_MAX_BYTES. While it runs, the bytes under its
// output directory are measured every 100 ms: past MaxBytes, or below
// MinBytesPerSec on average once Grace has passed, the whole group is
// killed and the download fails permanently.
type Downloader struct {
	Command        []string      // the command's words; the URL and the output path are appended
	MaxBytes       int64         // UPLOAD_MAX_BYTES
	MinBytesPerSec int64         // FETCH_MIN_BYTES_PER_SEC; 0: no rate limit
	Grace          time.Duration // before the rate applies (FETCH_TIMEOUT); 0: 30 s
}

// Fetch downloads url into a new file under dir and returns its path and
// raw description. The caller removes the file.
func (d *Downloader) Fetch(ctx context.Context, url, dir string) (string, Raw, error) {
	out := filepath.Join(dir, "media")
	run := toolRun{
		name:  d.Command[0],
		args:  append(append([]string{}, d.Command[1:]...), url, out),
		env:   []string{EnvDownloadMaxBytes + "=" + strconv.FormatInt(d.MaxBytes, 10)},
		watch: d.watch(dir, time.Now()),
	}
	if _, err := run.run(ctx); err != nil {
		if IsPermanent(err) { // a limit of the run
			return "", Raw{}, err
		}
		// Unlike a converter failing on a file, a downloader failing is
		// usually the network or the platform: worth retrying.
		var te *ToolError
		if errors.As(err, &te) {
			return "", Raw{}, fmt.Errorf("video download: %w", te.Err)
		}
		return "", Raw{}, err
	}
	f, err := os.Open(out) //nolint:gosec // G304: a path in this worker's temp directory
	if err != nil {
		return "", Raw{}, Permanent(MsgDownloadEmpty)
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, io.LimitReader(f, d.MaxBytes+1))
	if err != nil {
		return "", Raw{}, fmt.Errorf("hash download: %w", err)
	}
	if n > d.MaxBytes {
		return "", Raw{}, Permanent(MsgDownloadTooLarge)
	}
	if n == 0 {
		return "", Raw{}, Permanent(MsgDownloadEmpty)
	}
	return out, Raw{SHA256: hex.EncodeToString(h.Sum(nil)), Size: n}, nil
}

// watch returns the check run while the downloader writes into dir: the
// size limit, and the minimum average rate after the grace period (the
// largest size seen counts, as a downloader may merge and delete parts).
func (d *Downloader) watch(dir string, started time.Time) func() error {
	var peak int64
	grace := d.Grace
	if grace <= 0 {
		grace = 30 * time.Second // a platform downloader resolves the page first
	}
	return func() error {
		n := dirSize(dir)
		if n > d.MaxBytes {
			return Permanent(MsgDownloadTooLarge)
		}
		peak = max(peak, n)
		if d.MinBytesPerSec > 0 {
			if over := time.Since(started) - grace; over > 0 && peak < int64(over.Seconds()*float64(d.MinBytesPerSec)) {
				return Permanent(fmt.Sprintf(MsgDownloadTooSlow, d.MinBytesPerSec))
			}
		}
		return nil
	}
}

// dirSize is the total size of the regular files under dir.
func dirSize(dir string) int64 {
	var n int64
	_ = filepath.WalkDir(dir, func(_ string, e fs.DirEntry, err error) error {
		if err == nil && e.Type().IsRegular() {
			if info, err := e.Info(); err == nil {
				n += info.Size()
			}
		}
		return nil
	})
	return n
}
