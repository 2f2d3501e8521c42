package ingest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Messages of the downloader command.
const (
	MsgDownloadTooLarge = "Downloaded media exceeds the upload size limit"
	MsgDownloadEmpty    = "The video platform download produced no file"
)

// Downloader runs the operator's VIDEO_DOWNLOADER_CMD for video-platform
// URLs (docs/design/jobs.md, "Ingest"): the command's words, then the URL and the output
// path as two more arguments, never through a shell. The command is
// trusted configuration; the URL is a validated absolute http(s) URL, so it
// cannot be mistaken for an option.
type Downloader struct {
	Command  []string // the command's words; the URL and the output path are appended
	MaxBytes int64    // UPLOAD_MAX_BYTES
}

// Fetch downloads url into a new file under dir and returns its path and
// raw description. The caller removes the file.
func (d *Downloader) Fetch(ctx context.Context, url, dir string) (string, Raw, error) {
	out := filepath.Join(dir, "media")
	args := append(append([]string{}, d.Command[1:]...), url, out)
	if _, err := runTool(ctx, d.Command[0], args...); err != nil {
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
