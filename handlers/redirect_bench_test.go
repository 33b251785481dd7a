package handlers_test

import (
	"math/rand/v2"
	"net/http"
	"strconv"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/shortlinks/shortlinks/handlers"
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
		// Every core redirecting the one hot link: what shared locks and
		// counters cost when requests really run at once.
		b.Run(bb.name+"/parallel", func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				req, _ := http.NewRequest("GET", "/"+l.Slug, nil)
				req.Header.Set("User-Agent", iPhone)
				req.RemoteAddr = "203.0.113.9:51234"
				w := &headersOnly{h: http.Header{}}
				for pb.Next() {
					clear(w.h)
					bb.handler.ServeHTTP(w, req)
				}
			})
		})
	}
}

// BenchmarkRedirectMiss is the cold path in process: uniformly random slugs
// over 100,000 links through a cache of 1,000, so nearly every redirect is
// a database lookup (and a click on a row of its own). `make bench`
// measures the real thing against pgbench.
func BenchmarkRedirectMiss(b *testing.B) {
	dbURL := migratedDatabase(b)
	app := newTestAppOn(b, dbURL, func(c *handlers.Config) { c.Redirects.CacheSize = 1000 })
	const links = 100_000
	if _, err := app.Store.DB().Exec(`INSERT INTO short_links (slug, destination_url)
		SELECT 'm' || i, 'https://shop.example.com/products/' || i || '?utm_source=sms' FROM generate_series(1, $1) AS i`, links); err != nil {
		b.Fatal(err)
	}
	e := app.H.NewServer()
	b.ReportAllocs()
	b.ResetTimer()
	b.SetParallelism(8) // lookups wait on the database: more goroutines than cores, as with real clients
	b.RunParallel(func(pb *testing.PB) {
		w := &headersOnly{h: http.Header{}}
		for pb.Next() {
			req, _ := http.NewRequest("GET", "/m"+strconv.Itoa(1+rand.IntN(links)), nil)
			req.Header.Set("User-Agent", iPhone)
			req.RemoteAddr = "203.0.113.9:51234"
			clear(w.h)
			e.ServeHTTP(w, req)
		}
	})
	b.StopTimer()
	st := app.H.RedirectStats()
	b.ReportMetric(float64(st.CacheMisses)/float64(max(st.LookupStatements, 1)), "misses/statement")
}
