package api

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"math/rand/v2"
	"mime/multipart"
	"testing"
)

// BenchmarkMultipartFile measures the app's cost of reading a 64 MiB file
// part out of a streamed form, as openForm and the object store read it
// (10 MiB part buffers, SHA-256 of every byte), against the floor of the
// upload benchmark: SHA-256 of the same bytes copied once.
//
//	go test ./app/api -run '^$' -bench MultipartFile -benchmem -count 5
//
// The body arrives in 64 KiB reads, as from a loopback socket.
func BenchmarkMultipartFile(b *testing.B) {
	const size = 64 << 20
	body, boundary := benchForm(b, size)
	buf := make([]byte, 10<<20)
	readPart := func(b *testing.B, part io.Reader) {
		h := sha256.New()
		for {
			n, err := io.ReadFull(part, buf)
			h.Write(buf[:n])
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return
			}
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	form := func(b *testing.B, r io.Reader) {
		mr := multipart.NewReader(r, boundary)
		for {
			p, err := mr.NextPart()
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				b.Fatal(err)
			}
			readPart(b, p)
		}
	}
	for _, v := range []struct {
		name string
		run  func(b *testing.B, r io.Reader)
	}{
		{"floor", func(b *testing.B, r io.Reader) { readPart(b, r) }},
		{"shipped", func(b *testing.B, r io.Reader) {
			form(b, bufio.NewReaderSize(newDelimiterWatch(r, boundary), 256<<10))
		}},
		{"no-watch", func(b *testing.B, r io.Reader) { form(b, bufio.NewReaderSize(r, 256<<10)) }},
		{"bufio-4k", func(b *testing.B, r io.Reader) { form(b, newDelimiterWatch(r, boundary)) }},
	} {
		b.Run(v.name, func(b *testing.B) {
			b.SetBytes(size)
			b.ReportAllocs()
			for b.Loop() {
				v.run(b, &chunked{r: bytes.NewReader(body), max: 64 << 10})
			}
		})
	}
}

// benchForm is a form with a source_type field and a file of size random
// bytes (one random MiB repeated, as bench/upload sends).
func benchForm(b *testing.B, size int) ([]byte, string) {
	mib := make([]byte, 1<<20)
	rng := rand.New(rand.NewPCG(5, 6))
	for i := range mib {
		mib[i] = byte(rng.UintN(256))
	}
	var out bytes.Buffer
	w := multipart.NewWriter(&out)
	if err := w.WriteField("source_type", "video"); err != nil {
		b.Fatal(err)
	}
	fw, err := w.CreateFormFile("file", "lecture.mp4")
	if err != nil {
		b.Fatal(err)
	}
	for range size >> 20 {
		_, _ = fw.Write(mib)
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	return out.Bytes(), w.Boundary()
}

// chunked returns at most max bytes per Read.
type chunked struct {
	r   io.Reader
	max int
}

func (c *chunked) Read(p []byte) (int, error) { return c.r.Read(p[:min(len(p), c.max)]) }
