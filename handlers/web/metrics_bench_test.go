package web

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/labstack/echo/v4"
)

// discardWriter is a ResponseWriter that keeps nothing, so the benchmark
// measures the server side only.
type discardWriter struct{ h http.Header }

func (w discardWriter) Header() http.Header         { return w.h }
func (w discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w discardWriter) WriteHeader(int)             {}

// BenchmarkRequestMetrics is the cost of the metrics middleware on a
// constant-302 handler shaped like the redirect route:
//
//	go test -run '^$' -bench RequestMetrics -benchmem ./handlers/
func BenchmarkRequestMetrics(b *testing.B) {
	for _, measured := range []bool{false, true} {
		name := map[bool]string{false: "bare", true: "measured"}[measured]
		b.Run(name, func(b *testing.B) {
			h := &Base{Metrics: NewMetrics(slog.New(slog.NewTextHandler(io.Discard, nil)))}
			e := echo.New()
			if measured {
				e.Use(h.MeasureRequests)
			}
			e.GET("/:slug", func(c echo.Context) error { return c.Redirect(http.StatusFound, "https://example.com/") })
			req := httptest.NewRequest(http.MethodGet, "/abc123", nil)
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				w := discardWriter{h: http.Header{}}
				for pb.Next() {
					e.ServeHTTP(w, req)
				}
			})
		})
	}
}
