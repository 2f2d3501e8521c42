package ingest

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path"
	"strings"

	"github.com/course-supporter/course-supporter/app/course"
	"github.com/course-supporter/course-supporter/app/fetch"
)

// MaxInMemoryBytes caps the files extracted in memory (text, docx, pptx):
// larger ones are refused rather than growing the worker without bound.
// Media and PDFs are processed from disk by child processes.
const MaxInMemoryBytes = 64 << 20

// Permanent failure messages of the processor.
const (
	MsgNoTranscription = "Transcription is not configured"
	MsgPlatformVideo   = "Video platform URLs require VIDEO_DOWNLOADER_CMD"
	MsgTooLargeText    = "File is too large to extract text from (limit 64 MiB)"
)

// Source is a material as processing sees it.
type Source struct {
	Type     course.SourceType
	URL      string // source_url: the external URL or the stored object's URL
	Filename string // the client's file name (stored files), for the extension and title
	Path     string // local copy of a stored object; "" for URL materials
	// Call identifies the tenant and job every external AI call of this
	// material is audited under.
	Call course.LLMCall
}

// Raw describes the raw bytes a document was produced from.
type Raw struct {
	SHA256 string
	Size   int64
}

// Processor turns a material's raw source into its SourceDocument
// (docs/design/jobs.md, "Ingest"). Its zero value finds poppler and ffmpeg on PATH but can
// neither transcribe nor fetch.
type Processor struct {
	PDF            PDFTools
	FFmpeg         string       // "" = ffmpeg on PATH
	FFprobe        string       // "" = ffprobe on PATH
	Transcriber    *Transcriber // nil or no model: video fails with MsgNoTranscription
	Vision         *Vision      // nil: PDFs get no slide descriptions
	SegmentSeconds int          // TRANSCRIPTION_SEGMENT_SECONDS
	Web            *fetch.Fetcher
	Media          *fetch.Fetcher // direct media and document URLs (UPLOAD_MAX_BYTES)
	VideoPlatforms []string       // hosts served only through a downloader command
	Downloader     *Downloader    // VIDEO_DOWNLOADER_CMD; nil: platform URLs fail with MsgPlatformVideo
	TmpDir         string         // scratch space for downloads and audio
	Limits         Limits         // what one document may expand into
}

// File processes a stored object already copied to src.Path.
func (p *Processor) File(ctx context.Context, src Source) (*SourceDocument, error) {
	title := src.Filename
	switch src.Type {
	case course.SourceVideo:
		return p.video(ctx, src.Call, src.Path, src.URL, title)
	case course.SourcePresentation:
		if strings.EqualFold(path.Ext(src.Filename), ".pdf") {
			return p.pdf(ctx, src, title)
		}
		data, err := readSmall(src.Path)
		if err != nil {
			return nil, err
		}
		return p.Limits.ExtractPptx(data, src.URL, title)
	case course.SourceText:
		data, err := readSmall(src.Path)
		if err != nil {
			return nil, err
		}
		return p.Limits.ExtractText(src.Filename, data, src.URL)
	}
	return nil, Permanent(fmt.Sprintf("Unsupported source type '%s' for a stored file", src.Type))
}

// URL fetches and processes an external material, through the SSRF-safe
// fetchers only.
func (p *Processor) URL(ctx context.Context, src Source) (*SourceDocument, Raw, error) {
	if src.Type == course.SourceWeb {
		if p.Web == nil {
			return nil, Raw{}, fmt.Errorf("web fetching is not configured")
		}
		res, err := p.Web.Get(ctx, src.URL, fetch.AcceptWeb)
		if err != nil {
			return nil, Raw{}, err
		}
		doc, err := p.Limits.ExtractWeb(res.Body, src.URL, res.FinalURL, res.ContentType)
		return doc, Raw{SHA256: res.SHA256, Size: res.Size}, err
	}
	u, err := url.Parse(src.URL)
	if err != nil {
		return nil, Raw{}, Permanent("source_url must be an absolute http(s) URL")
	}
	if src.Type == course.SourceVideo && course.HostIn(u.Hostname(), p.VideoPlatforms) {
		return p.platformVideo(ctx, src)
	}
	if p.Media == nil {
		return nil, Raw{}, fmt.Errorf("media fetching is not configured")
	}
	f, err := os.CreateTemp(p.TmpDir, "url-*")
	if err != nil {
		return nil, Raw{}, fmt.Errorf("create temp file: %w", err)
	}
	defer func() { _ = f.Close(); _ = os.Remove(f.Name()) }()
	accept := func(string) bool { return true }
	if src.Type == course.SourceVideo {
		accept = acceptMedia
	}
	res, err := p.Media.Download(ctx, src.URL, accept, f)
	if err != nil {
		return nil, Raw{}, err
	}
	if err := f.Close(); err != nil {
		return nil, Raw{}, fmt.Errorf("write temp file: %w", err)
	}
	raw := Raw{SHA256: res.SHA256, Size: res.Size}
	doc, err := p.File(ctx, Source{Type: src.Type, URL: src.URL, Filename: path.Base(u.Path), Path: f.Name(), Call: src.Call})
	return doc, raw, err
}

// platformVideo fetches a video-platform URL with the downloader command
// and transcribes what it saved.
func (p *Processor) platformVideo(ctx context.Context, src Source) (*SourceDocument, Raw, error) {
	if p.Downloader == nil || len(p.Downloader.Command) == 0 {
		return nil, Raw{}, Permanent(MsgPlatformVideo)
	}
	dir, err := os.MkdirTemp(p.TmpDir, "url-*")
	if err != nil {
		return nil, Raw{}, fmt.Errorf("create download dir: %w", err)
	}
	defer func() { _ = os.RemoveAll(dir) }()
	file, raw, err := p.Downloader.Fetch(ctx, src.URL, dir)
	if err != nil {
		return nil, Raw{}, err
	}
	doc, err := p.video(ctx, src.Call, file, src.URL, src.URL)
	return doc, raw, err
}

// acceptMedia accepts the content types of direct media downloads.
func acceptMedia(mediaType string) bool {
	return strings.HasPrefix(mediaType, "video/") || strings.HasPrefix(mediaType, "audio/") ||
		mediaType == "application/octet-stream"
}

// video transcribes a media file: probe, audio segments, transcription.
func (p *Processor) video(ctx context.Context, call course.LLMCall, file, sourceURL, title string) (*SourceDocument, error) {
	if !p.Transcriber.Configured() {
		return nil, Permanent(MsgNoTranscription)
	}
	info, err := ProbeMedia(ctx, p.FFprobe, file)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp(p.TmpDir, "audio-*")
	if err != nil {
		return nil, fmt.Errorf("create audio dir: %w", err)
	}
	defer func() { _ = os.RemoveAll(dir) }()
	seg := p.SegmentSeconds
	if seg <= 0 {
		seg = 600
	}
	audio, err := ExtractAudio(ctx, p.FFmpeg, file, dir, seg)
	if err != nil {
		return nil, err
	}
	chunks, model, err := p.Transcriber.TranscribeAll(ctx, call, audio)
	if err != nil {
		return nil, err
	}
	return VideoDocument(sourceURL, title, info, p.Transcriber.Language, model, chunks)
}

// readSmall reads a file extracted in memory, refusing huge ones.
func readSmall(file string) ([]byte, error) {
	st, err := os.Stat(file)
	if err != nil {
		return nil, fmt.Errorf("stat %s: %w", path.Base(file), err)
	}
	if st.Size() > MaxInMemoryBytes {
		return nil, Permanent(MsgTooLargeText)
	}
	b, err := os.ReadFile(file) //nolint:gosec // G304: a temp file this worker created
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path.Base(file), err)
	}
	return b, nil
}
