package api_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/course-supporter/course-supporter/app/api"
)

// BenchmarkAuthAndRateLimit measures what authentication (cached key
// lookup) and the shared PostgreSQL rate limiter add to a request:
//
//	go test ./app/api -run '^$' -bench AuthAndRateLimit -benchtime 2000x
//
// "auth-only" is the same request through the same stack with the limiter
// off; the difference is the cost of one limiter round trip. The key has
// the default check budget (300/min), so after 300 requests the rest are
// 429s, which do the same work: the bucket stays full, the realistic worst
// case of the sliding log.
func BenchmarkAuthAndRateLimit(b *testing.B) {
	for _, bc := range []struct {
		name    string
		limiter bool
	}{{"auth-only", false}, {"auth+ratelimit", true}} {
		b.Run(bc.name, func(b *testing.B) {
			s := mustStack(b, func(o *api.Options) { o.RateLimitEnabled = bc.limiter })
			tenant := s.mustTenant("bench")
			key := s.mustKey(tenant, keyOpts{rateCheck: 300}) // the default check budget
			id := s.mustCreate(key, "", "bench")
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				req := httptest.NewRequest(http.MethodGet, "/api/v1/nodes/"+id, nil)
				req.Header.Set("X-API-Key", key)
				resp, err := s.srv.App().Test(req, -1)
				if err != nil || (resp.StatusCode != 200 && resp.StatusCode != 429) {
					b.Fatalf("%v %v", resp.StatusCode, err)
				}
				resp.Body.Close()
			}
		})
	}
}
