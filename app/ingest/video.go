package ingest

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// AudioSegment is one extracted audio file and where it starts in the
// source media.
type AudioSegment struct {
	Path     string
	StartSec float64
	EndSec   float64
}

// MediaInfo is what ffprobe reports about a media file.
type MediaInfo struct {
	DurationSec float64
	HasAudio    bool
	Format      string // container format name, e.g. "mov,mp4,m4a,3gp,3g2,mj2"
}

// ProbeMedia runs ffprobe on file (docs/design/jobs.md, "Ingest"). A file without
// an audio stream is the permanent MsgNoAudio.
func ProbeMedia(ctx context.Context, ffprobePath, file string) (*MediaInfo, error) {
	out, err := runTool(ctx, orDefault(ffprobePath, "ffprobe"), "-v", "error",
		"-show_entries", "format=duration,format_name:stream=codec_type", "-of", "json", file)
	if err != nil {
		return nil, err
	}
	var p struct {
		Format struct {
			Duration string `json:"duration"`
			Name     string `json:"format_name"`
		} `json:"format"`
		Streams []struct {
			CodecType string `json:"codec_type"`
		} `json:"streams"`
	}
	if err := json.Unmarshal(out, &p); err != nil {
		return nil, fmt.Errorf("ffprobe output: %w", err)
	}
	info := &MediaInfo{Format: p.Format.Name}
	info.DurationSec, _ = strconv.ParseFloat(p.Format.Duration, 64)
	for _, s := range p.Streams {
		if s.CodecType == "audio" {
			info.HasAudio = true
		}
	}
	if !info.HasAudio {
		return info, &PermanentError{Msg: MsgNoAudio}
	}
	return info, nil
}

// ExtractAudio converts videoFile into mono 16 kHz MP3 at 32 kbit/s,
// split into segments of segmentSeconds (TRANSCRIPTION_SEGMENT_SECONDS) in
// outDir (docs/design/jobs.md, "Ingest"). Segment start times come from ffmpeg's
// segment list, so offsets are exact rather than assumed multiples. A
// source without audio is the permanent MsgNoAudio.
func ExtractAudio(ctx context.Context, ffmpegPath, videoFile, outDir string, segmentSeconds int) ([]AudioSegment, error) {
	if segmentSeconds <= 0 {
		return nil, errors.New("ingest: segmentSeconds must be positive")
	}
	list := filepath.Join(outDir, "segments.csv")
	_, err := runTool(ctx, orDefault(ffmpegPath, "ffmpeg"), "-nostdin", "-hide_banner", "-loglevel", "error",
		"-y", "-i", videoFile, "-vn", "-map", "0:a:0", "-ac", "1", "-ar", "16000",
		"-c:a", "libmp3lame", "-b:a", "32k",
		"-f", "segment", "-segment_time", strconv.Itoa(segmentSeconds), "-reset_timestamps", "1",
		"-segment_list", list, "-segment_list_type", "csv",
		filepath.Join(outDir, "audio_%05d.mp3"))
	if err != nil {
		var te *ToolError
		if errors.As(err, &te) && strings.Contains(te.Stderr, "matches no streams") {
			return nil, &PermanentError{Msg: MsgNoAudio}
		}
		return nil, err
	}
	f, err := os.Open(list) //nolint:gosec // G304: our own output file
	if err != nil {
		return nil, fmt.Errorf("segment list: %w", err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("segment list: %w", err)
	}
	segs := make([]AudioSegment, 0, len(rows))
	for _, r := range rows {
		if len(r) < 3 {
			return nil, fmt.Errorf("segment list: bad row %q", r)
		}
		start, err1 := strconv.ParseFloat(r[1], 64)
		end, err2 := strconv.ParseFloat(r[2], 64)
		if err := errors.Join(err1, err2); err != nil {
			return nil, fmt.Errorf("segment list: %w", err)
		}
		segs = append(segs, AudioSegment{Path: filepath.Join(outDir, filepath.Base(r[0])), StartSec: start, EndSec: end})
	}
	if len(segs) == 0 {
		return nil, &PermanentError{Msg: MsgNoAudio}
	}
	return segs, nil
}
