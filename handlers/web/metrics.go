package web

import (
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/shortlinks/shortlinks/db"
)

// Metrics is the service's Prometheus registry and the instruments the
// handlers update. Handlers owns it: there is no global registry, so tests
// and several servers in one process never share counts.
type Metrics struct {
	Reg       *prometheus.Registry // public: surfaces add their collectors (handlers/public)
	Handler   http.Handler         // serves /metrics (handlers/ops)
	requests  *prometheus.CounterVec
	durations *prometheus.HistogramVec

	duplicateGroups prometheus.Gauge
	uniqueIndex     prometheus.Gauge
	healthChecked   prometheus.Gauge
	links           *prometheus.GaugeVec
	deadLetters     prometheus.Gauge
	webhooks        webhookGauges // metrics_webhooks.go
	// Health readings are numbered as they start (healthStarted); the
	// gauges show the latest-started reading recorded (healthShown), so one
	// that began earlier and finished later does not set them back.
	healthStarted atomic.Int64
	healthMu      sync.Mutex
	healthShown   int64

	// byRoute caches each (route, method, status)'s instruments. Reads are
	// an atomic load and a map lookup, with no lock and no allocation, to
	// keep the redirect path cheap; a miss copies the map under mu.
	byRoute atomic.Pointer[map[routeKey]routeInstruments]
	mu      sync.Mutex
}

type routeKey struct {
	route, method string
	status        int
}

type routeInstruments struct {
	count   prometheus.Counter
	latency prometheus.Observer
}

// NewMetrics builds the registry with the request and health instruments;
// RegisterStore adds the store's figures.
func NewMetrics(log *slog.Logger) *Metrics {
	m := &Metrics{Reg: prometheus.NewRegistry()}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "http_requests_total", Help: "HTTP requests by route template, method and status.",
	}, []string{"route", "method", "status"})
	m.durations = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "http_request_duration_seconds", Help: "HTTP request latency by route template and method.",
		// From a cached redirect (sub-millisecond) to a slow export (seconds).
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	}, []string{"route", "method"})
	m.duplicateGroups = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "shortlinks_duplicate_groups",
		Help: "Active (destination, link type) groups with more than one active link, as of the last check; healthy is 0.",
	})
	m.uniqueIndex = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "shortlinks_unique_index_present",
		Help: "1 when the partial unique index " + db.UniqueIndexName + " exists and is valid (read from the catalog every 30 s).",
	})
	m.deadLetters = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "shortlinks_click_dead_letters_waiting",
		Help: "Click batches in the dead-letter table, from every instance, waiting for an admin to replay them (read every 30 s).",
	})
	m.healthChecked = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "shortlinks_duplicate_check_timestamp_seconds",
		Help: "Unix time the last full duplicate check finished (any instance); a stale value means the check is not running.",
	})
	m.links = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "shortlinks_links",
		Help: "Links by state (active, inactive), as of the last duplicate check: exact then, never a scan per scrape.",
	}, []string{"state"})
	m.webhooks = newWebhookGauges(m.Reg)
	m.Reg.MustRegister(m.requests, m.durations, m.duplicateGroups, m.uniqueIndex, m.healthChecked, m.links, m.deadLetters,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.Handler = promhttp.HandlerFor(m.Reg, promhttp.HandlerOpts{
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	})
	empty := map[routeKey]routeInstruments{}
	m.byRoute.Store(&empty)
	return m
}

// RegisterStore exposes the store's counters, read at scrape time from
// memory, and its connection pool.
func (m *Metrics) RegisterStore(store *db.Store) {
	m.Reg.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "shortlinks_links_created_total", Help: "Links created by get-or-create since start.",
		}, func() float64 { return float64(store.Counters().LinksCreated) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "shortlinks_get_or_create_conflicts_resolved_total",
			Help: "Get-or-create calls that lost an insert race and returned the winner's link, since start.",
		}, func() float64 { return float64(store.Counters().ConflictsResolved) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "shortlinks_degraded",
			Help: "1 while this instance runs degraded: the unique index " + db.UniqueIndexName + " is missing or invalid, " +
				"so get-or-create holds an advisory lock per destination instead of relying on ON CONFLICT.",
		}, func() float64 {
			if store.Degraded() {
				return 1
			}
			return 0
		}),
		collectors.NewDBStatsCollector(store.DB().DB, "shortlinks"),
	)
}

// observe records one finished request.
func (m *Metrics) observe(route, method string, status int, elapsed time.Duration) {
	key := routeKey{route: route, method: methodLabel(method), status: status}
	in, ok := (*m.byRoute.Load())[key]
	if !ok {
		in = m.instruments(key)
	}
	in.count.Inc()
	in.latency.Observe(elapsed.Seconds())
}

// instruments creates and caches the instruments of a new label set.
func (m *Metrics) instruments(key routeKey) routeInstruments {
	m.mu.Lock()
	defer m.mu.Unlock()
	old := *m.byRoute.Load()
	if in, ok := old[key]; ok {
		return in
	}
	route := key.route
	if route == "" {
		route = "unmatched" // no route at all; never the raw path
	}
	in := routeInstruments{
		count:   m.requests.WithLabelValues(route, key.method, strconv.Itoa(key.status)),
		latency: m.durations.WithLabelValues(route, key.method),
	}
	next := make(map[routeKey]routeInstruments, len(old)+1)
	for k, v := range old {
		next[k] = v
	}
	next[key] = in
	m.byRoute.Store(&next)
	return in
}

// methodLabel keeps the method label to a fixed set: clients can send any
// token as a method, and each would otherwise become a time series.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut,
		http.MethodPatch, http.MethodDelete, http.MethodOptions:
		return m
	}
	return "OTHER"
}

// MeasureRequests counts every request and its latency under its route
// template (c.Path(), such as "/:slug"), never the raw path, so the number
// of series stays bounded. It is the outermost middleware and handles
// errors itself, so the status it records is the one the client got.
func (h *Base) MeasureRequests(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		if err := next(c); err != nil {
			c.Error(err)
		}
		h.Metrics.observe(c.Path(), c.Request().Method, c.Response().Status, time.Since(start))
		return nil
	}
}

// RecordDeadLetters sets the gauge of click batches waiting in the
// dead-letter table (the monitor reads it every 30 s).
func (m *Metrics) RecordDeadLetters(n int64) { m.deadLetters.Set(float64(n)) }

// startHealth numbers a health reading as it starts, for recordHealth.
func (m *Metrics) startHealth() int64 { return m.healthStarted.Add(1) }

// recordHealth updates the duplicate gauges from health reading n
// (startHealth). Readings run at once (the monitor's tick, the check it
// just ran, a dashboard, the API), each a few statements long; one that
// started before the reading the gauges show is dropped, as it may have
// read an older check. (The order is this process's, not the checks' ids:
// a database restored from a backup has older ids and must still show.)
func (m *Metrics) recordHealth(hs HealthJSON, n int64) {
	m.healthMu.Lock()
	defer m.healthMu.Unlock()
	if n < m.healthShown {
		return
	}
	m.healthShown = n
	m.duplicateGroups.Set(float64(hs.DuplicateGroups))
	index := 0.0
	if hs.UniqueIndexPresent && hs.UniqueIndexValid {
		index = 1
	}
	m.uniqueIndex.Set(index)
	if hs.CheckedAt != nil {
		m.healthChecked.Set(float64(hs.CheckedAt.UnixNano()) / 1e9)
	}
	m.links.WithLabelValues("active").Set(float64(hs.ActiveLinks))
	m.links.WithLabelValues("inactive").Set(float64(hs.InactiveLinks))
}
