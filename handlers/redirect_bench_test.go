package handlers_test

import (
	"net/http"
	"testing"

	"github.com/labstack/echo/v4"
)

// headersOnly is a ResponseWriter that keeps only the headers, so the
// benchmark measures the handler chain rather than a recorder's buffers.
type headersOnly struct{ h http.Header }

func (w *headersOnly) Header() http.Header         { return w.h }
func (w *headersOnly) Write(b []byte) (int, error) { return len(b), nil }
func (w *headersOnly) WriteHeader(int)             {}

// BenchmarkRedirectChain runs the whole Echo chain in process (production
// middleware included) next to a bare constant-302 Echo handler, to show
// what the redirect path adds per request without sockets; `make bench`
// measures the real thing. Run it with
//
//	TEST_DATABASE_URL=… go test -run '^$' -bench RedirectChain -benchmem ./handlers/
func BenchmarkRedirectChain(b *testing.B) {
	app := newTestAppOn(b, migratedDatabase(b))
	l := app.link(b, "https://bench.example.com/landing?utm_source=sms")
	e := app.H.NewServer()
	const302 := echo.New()
	const302.GET("/:slug", func(c echo.Context) error { return c.Redirect(http.StatusFound, l.DestinationURL) })
	for _, bb := range []struct {
		name    string
		handler http.Handler
	}{{"shortlinks", e}, {"constant-302", const302}} {
		b.Run(bb.name, func(b *testing.B) {
			req, _ := http.NewRequest("GET", "/"+l.Slug, nil)
			req.Header.Set("User-Agent", iPhone)
			req.RemoteAddr = "203.0.113.9:51234"
			w := &headersOnly{h: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				clear(w.h)
				bb.handler.ServeHTTP(w, req)
			}
		})
	}
}
