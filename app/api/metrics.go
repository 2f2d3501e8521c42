package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the HTTP-side Prometheus series. They are registered on the
// registry given in Deps and served on the internal metrics listener only.
type Metrics struct {
	requests    *prometheus.CounterVec
	duration    *prometheus.HistogramVec
	rateLimited *prometheus.CounterVec
	uploads     prometheus.Gauge
	uploadBytes prometheus.Counter
	rejected    *prometheus.CounterVec
}

// NewMetrics registers the series on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cs_http_requests_total", Help: "HTTP requests by method, route template and status.",
		}, []string{"method", "route", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "cs_http_request_duration_seconds", Help: "HTTP request latency by route template.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 120, 900},
		}, []string{"method", "route"}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cs_rate_limited_total", Help: "Requests refused by the rate limiter, by bucket scope.",
		}, []string{"scope"}),
		uploads: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "uploads_in_progress", Help: "Streaming uploads running in this process.",
		}),
		uploadBytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "upload_bytes_total", Help: "Bytes of files stored by streaming uploads.",
		}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "upload_rejected_total", Help: "Refused uploads by reason.",
		}, []string{"reason"}),
	}
	reg.MustRegister(m.requests, m.duration, m.rateLimited, m.uploads, m.uploadBytes, m.rejected)
	return m
}

// observe records one finished request; route is the template, never the
// raw path, so ids do not explode the series count.
func (m *Metrics) observe(c *fiber.Ctx, start time.Time) {
	if m == nil {
		return
	}
	route := "unmatched"
	if r := c.Route(); r != nil && r.Path != "/" {
		route = r.Path
	}
	status := strconv.Itoa(c.Response().StatusCode())
	method := methodLabel(c.Method())
	m.requests.WithLabelValues(method, route, status).Inc()
	m.duration.WithLabelValues(method, route).Observe(time.Since(start).Seconds())
}

// methodLabel maps a request method to a label value the registry may
// keep. c.Method() is a view of fasthttp's reused request buffer: kept as
// a label, the next request on the connection rewrites it in place and
// /metrics fails with duplicate series. The known methods map to constant
// strings and anything else to "other", which also bounds the series a
// client can create.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet:
		return http.MethodGet
	case http.MethodHead:
		return http.MethodHead
	case http.MethodPost:
		return http.MethodPost
	case http.MethodPut:
		return http.MethodPut
	case http.MethodPatch:
		return http.MethodPatch
	case http.MethodDelete:
		return http.MethodDelete
	case http.MethodOptions:
		return http.MethodOptions
	}
	return "other"
}

func (m *Metrics) rateLimit(scope string) {
	if m != nil {
		m.rateLimited.WithLabelValues(scope).Inc()
	}
}

func (m *Metrics) uploadStarted() func() {
	if m == nil {
		return func() {}
	}
	m.uploads.Inc()
	return m.uploads.Dec
}

// Uploaded counts the bytes of a file stored by a streamed upload (the
// intake reports it).
func (m *Metrics) Uploaded(n int64) {
	if m != nil {
		m.uploadBytes.Add(float64(n))
	}
}

// Rejected counts a refused upload by reason.
func (m *Metrics) Rejected(reason string) {
	if m != nil {
		m.rejected.WithLabelValues(reason).Inc()
	}
}
