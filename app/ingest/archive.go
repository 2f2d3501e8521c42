package ingest

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// Limits for OOXML (docx, pptx) archives, guarding against zip bombs: the
// declared sizes in a ZIP header are not trusted, every read is metered.
const (
	// MaxArchiveBytes caps the total uncompressed bytes read from one archive.
	MaxArchiveBytes = 50 << 20
	// MaxArchiveEntries caps the number of entries an archive may hold.
	MaxArchiveEntries = 10000
)

// ErrArchiveTooLarge reports an archive whose content exceeds
// MaxArchiveBytes or MaxArchiveEntries (permanent; match with errors.Is).
var ErrArchiveTooLarge error = &PermanentError{Msg: "Document archive exceeds the size limit"}

// archive reads entries of a ZIP with a shared uncompressed-byte budget.
type archive struct {
	files  map[string]*zip.File
	budget int64
}

// openArchive opens data as a ZIP; a malformed archive is a permanent
// failure.
func openArchive(data []byte, limit int64) (*archive, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, &PermanentError{Msg: MsgBadArchive}
	}
	if len(zr.File) > MaxArchiveEntries {
		return nil, fmt.Errorf("%w: %d entries", ErrArchiveTooLarge, len(zr.File))
	}
	a := &archive{files: make(map[string]*zip.File, len(zr.File)), budget: limit}
	for _, f := range zr.File {
		a.files[f.Name] = f
	}
	return a, nil
}

// has reports whether the archive holds name.
func (a *archive) has(name string) bool { _, ok := a.files[name]; return ok }

// open streams entry name, charging every byte read to the budget; a read
// past the budget fails with ErrArchiveTooLarge. Parsing from the stream
// instead of a copy keeps a 50 MB part from costing 50 MB twice.
func (a *archive) open(name string) (io.ReadCloser, error) {
	f, ok := a.files[name]
	if !ok {
		return nil, &PermanentError{Msg: MsgBadArchive}
	}
	if f.UncompressedSize64 > uint64(a.budget) { //nolint:gosec // budget is never negative
		return nil, fmt.Errorf("%w: %s declares %d bytes", ErrArchiveTooLarge, name, f.UncompressedSize64)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, &PermanentError{Msg: MsgBadArchive}
	}
	return &meteredEntry{rc: rc, a: a, name: name}, nil
}

// meteredEntry is an archive entry read against the archive's budget.
type meteredEntry struct {
	rc   io.ReadCloser
	a    *archive
	name string
}

func (m *meteredEntry) Read(p []byte) (int, error) {
	if int64(len(p)) > m.a.budget+1 {
		p = p[:m.a.budget+1]
	}
	n, err := m.rc.Read(p)
	m.a.budget -= int64(n)
	if m.a.budget < 0 {
		return n, fmt.Errorf("%w: %s", ErrArchiveTooLarge, m.name)
	}
	if err != nil && !errors.Is(err, io.EOF) {
		return n, &PermanentError{Msg: MsgBadArchive}
	}
	return n, err
}

func (m *meteredEntry) Close() error { return m.rc.Close() }

// read returns the content of entry name, charging it to the budget. A
// missing entry is a permanent failure.
func (a *archive) read(name string) ([]byte, error) {
	f, ok := a.files[name]
	if !ok {
		return nil, &PermanentError{Msg: MsgBadArchive}
	}
	if f.UncompressedSize64 > uint64(a.budget) { //nolint:gosec // budget is never negative
		return nil, fmt.Errorf("%w: %s declares %d bytes", ErrArchiveTooLarge, name, f.UncompressedSize64)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, &PermanentError{Msg: MsgBadArchive}
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, a.budget+1))
	if err != nil {
		return nil, &PermanentError{Msg: MsgBadArchive}
	}
	if int64(len(b)) > a.budget {
		return nil, fmt.Errorf("%w: %s", ErrArchiveTooLarge, name)
	}
	a.budget -= int64(len(b))
	return b, nil
}
