package objstore_test

import (
	"context"
	"net"
	"sync"
	"testing"

	"github.com/course-supporter/course-supporter/app/internal/s3test"
	"github.com/course-supporter/course-supporter/app/objstore"
)

// writeLog records the size of every write on the S3 connections.
type writeLog struct {
	mu    sync.Mutex
	sizes []int
}

type loggedConn struct {
	net.Conn
	log *writeLog
}

func (c *loggedConn) Write(p []byte) (int, error) {
	c.log.mu.Lock()
	c.log.sizes = append(c.log.sizes, len(p))
	c.log.mu.Unlock()
	return c.Conn.Write(p) //nolint:wrapcheck // a test double
}

// A part leaves in one write of the whole part, not in net/http's 32 KiB
// copies (docs/performance.md, "Upload CPU"); the object is still stored
// byte for byte.
func TestUploadPartIsOneWrite(t *testing.T) {
	t.Parallel()
	fake := s3test.MustStart(t, "bucket")
	s := newStore(t, fake, fake.URL)
	log := &writeLog{}
	objstore.SetConnWrap(s, func(c net.Conn) net.Conn { return &loggedConn{Conn: c, log: log} })
	const size = 5*mib*2 + 5*mib/2
	res, err := s.Upload(context.Background(), "t/big.bin", "application/octet-stream", newPattern(size))
	if err != nil {
		t.Fatal(err)
	}
	if sum, n, _ := stored(t, fake, "t/big.bin"); sum != patternSHA(size) || n != size || res.SHA256 != sum {
		t.Fatalf("stored %s %d, result %+v", sum, n, res)
	}
	log.mu.Lock()
	defer log.mu.Unlock()
	var whole, total int
	for _, n := range log.sizes {
		if n == 5*mib {
			whole++
		}
		total += n
	}
	if whole != 2 || total < size {
		t.Fatalf("%d writes of a whole part (want 2), %d bytes in %d writes", whole, total, len(log.sizes))
	}
}
