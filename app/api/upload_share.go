package api

import (
	"io"
	"net"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/course-supporter/course-supporter/app/course"
)

// tenantShares bounds the upload slots one tenant holds at once, so one
// tenant's stalled uploads cannot take every slot of the process
// (docs/operations/limits.md, "Uploads"). A tenant over its share is
// refused at once: waiting would only hold its connection longer.
type tenantShares struct {
	max  int
	mu   sync.Mutex
	held map[uuid.UUID]int
}

func newTenantShares(limit int) *tenantShares {
	return &tenantShares{max: limit, held: map[uuid.UUID]int{}}
}

// take reserves one of the tenant's slots; release gives it back.
func (t *tenantShares) take(tenant uuid.UUID) (func(), error) {
	if t.max <= 0 {
		return func() {}, nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.held[tenant] >= t.max {
		return nil, course.Errorf(course.EUNAVAILABLE, "Too many concurrent uploads for this tenant")
	}
	t.held[tenant]++
	var once sync.Once
	return func() {
		once.Do(func() {
			t.mu.Lock()
			defer t.mu.Unlock()
			if t.held[tenant]--; t.held[tenant] <= 0 {
				delete(t.held, tenant)
			}
		})
	}, nil
}

// idleReader gives every read of an upload body its own deadline on the
// connection, so a client that stops sending loses its slot after idle
// rather than after the whole ReadTimeout; the request's total deadline
// (ReadTimeout from its start) still holds. A read that times out closes
// the connection after the response.
type idleReader struct {
	r     io.Reader
	fc    *fiber.Ctx
	conn  net.Conn
	idle  time.Duration
	total time.Time
}

func newIdleReader(fc *fiber.Ctx, r io.Reader, idle, readTimeout time.Duration) io.Reader {
	conn := fc.Context().Conn()
	if conn == nil {
		return r
	}
	ir := &idleReader{r: r, fc: fc, conn: conn, idle: idle}
	if readTimeout > 0 {
		ir.total = fc.Context().Time().Add(readTimeout)
	}
	return ir
}

func (ir *idleReader) Read(p []byte) (int, error) {
	d := time.Now().Add(ir.idle)
	if !ir.total.IsZero() && ir.total.Before(d) {
		d = ir.total
	}
	_ = ir.conn.SetReadDeadline(d)
	n, err := ir.r.Read(p)
	if err != nil && err != io.EOF { //nolint:errorlint // io.EOF is returned bare by readers
		ir.fc.Context().SetConnectionClose()
	}
	return n, err //nolint:wrapcheck // io.EOF must pass through unwrapped
}
