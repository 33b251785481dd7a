// Package handlers serves the HTTP API, the redirects and the admin pages
// with Echo. Handlers are methods of one Handlers value built by New, which
// holds every dependency explicitly; there is no package-level state.
package handlers

import (
	"crypto/sha256"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/shortlinks/shortlinks/db"
	"github.com/shortlinks/shortlinks/handlers/cost"
	"github.com/shortlinks/shortlinks/handlers/messages"
	"github.com/shortlinks/shortlinks/handlers/redirects"
	"github.com/shortlinks/shortlinks/handlers/requestlog"
	"github.com/shortlinks/shortlinks/handlers/urlpolicy"
	"github.com/shortlinks/shortlinks/handlers/webhooks"
)

// Config is everything the handlers read from configuration.
type Config struct {
	BaseURL        string   // public base for short URLs, no trailing slash
	APITokens      []string // bearer tokens accepted by /api/v1
	LinkTypes      []string // accepted link_type values
	ShlinkLinkType string   // link_type of links made through /rest/v3; default "campaign"
	URLPolicy      urlpolicy.Policy
	RedirectStatus int // 301, 302, 307 or 308
	AdminUser      string
	AdminPassword  string             // plain text or a bcrypt hash; empty disables sign-in
	SessionSecret  string             // signs session cookies; a random key kept in the database when empty
	SMSRate        cost.Rate          // price of one SMS segment; DefaultSMSRate when zero
	SMSTemplates   messages.Templates // message per variant; messages.Defaults when nil
	Limits         Limits
	MetricsPublic  bool   // serve /metrics to anyone, not only loopback peers
	MetricsToken   string // bearer token that opens /metrics from anywhere; empty: none
	// DuplicateCheckInterval is how often the full duplicate check runs
	// (one instance at a time); DefaultDuplicateCheckInterval when zero.
	DuplicateCheckInterval time.Duration
	// Redirects tunes the redirect cache and click counting; its
	// CheckDestination defaults to URLPolicy.
	Redirects redirects.Options
	// Webhooks configures the delivery worker, started when URLs is set.
	Webhooks webhooks.Options
}

// DefaultLinkTypes are the link types accepted when none are configured.
var DefaultLinkTypes = []string{db.LinkTypeSitePreview, "campaign", "sms", "email", "social", "qr"}

// Handlers serves every route; build it with New.
type Handlers struct {
	store *db.Store
	cfg   Config
	log   *slog.Logger

	sessions  *sessions
	limits    limiters
	guesses   *guessGate         // slug_guessing.go: the unknown-slug limit, before any lookup
	metrics   *metrics           // metrics.go
	monitor   *monitor           // monitor.go: gauges, counters, the duplicate check
	redirects *redirects.Service // redirect.go; stopped by Close
	webhooks  *webhooks.Worker   // nil without WEBHOOK_URLS; stopped by Close

	ready readiness // readiness.go: /readyz's last database check

	tokenDigests [][32]byte     // SHA-256 of each API_TOKEN (authorize.go)
	registered   map[route]bool // every route NewServer registered, for authorize

	pageHeaders map[string][]string // middleware.go: security headers of pages, API answers, error pages
}

// New returns Handlers over store.
func New(store *db.Store, cfg Config, log *slog.Logger) *Handlers {
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	if len(cfg.LinkTypes) == 0 {
		cfg.LinkTypes = DefaultLinkTypes
	}
	if cfg.ShlinkLinkType == "" {
		cfg.ShlinkLinkType = "campaign"
	}
	if cfg.RedirectStatus == 0 {
		cfg.RedirectStatus = http.StatusFound
	}
	cfg.Limits = cfg.Limits.withDefaults()
	if cfg.DuplicateCheckInterval <= 0 {
		cfg.DuplicateCheckInterval = DefaultDuplicateCheckInterval
	}
	if cfg.SMSRate.Currency == "" {
		cfg.SMSRate = DefaultSMSRate
	}
	if cfg.SMSTemplates == nil {
		cfg.SMSTemplates = messages.Defaults
	}
	h := &Handlers{
		store: store, cfg: cfg, log: requestlog.Logger(log), // lines carry the request ID
		sessions: newSessions(cfg, store),
		limits:   newLimiters(cfg.Limits),
		metrics:  newMetrics(log),
	}
	for _, t := range cfg.APITokens {
		h.tokenDigests = append(h.tokenDigests, sha256.Sum256([]byte(t)))
	}
	h.guesses = newGuessGate(h.limits.notFound)
	h.pageHeaders = pageHeaders(cfg.BaseURL)
	h.ready.ping = store.Ping
	h.redirects = h.newRedirects()
	registerRedirectMetrics(h.metrics.reg, h) // metrics_redirect.go
	h.metrics.registerStore(store)
	h.monitor = h.startMonitor(monitorInterval, cfg.DuplicateCheckInterval)
	if len(cfg.Webhooks.URLs) > 0 {
		h.webhooks = webhooks.Start(store, cfg.Webhooks, log.With("component", "webhooks"))
	}
	return h
}

// NewServer returns an Echo server with every route and the error handler.
func (h *Handlers) NewServer() *echo.Echo {
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.HTTPErrorHandler = h.handleError
	e.IPExtractor = ipExtractor(h.cfg.Limits)
	// One middleware, which runs the page chain on every route but the
	// redirect (middleware.go: exceptOnRedirect).
	// authorize (authorize.go) is last: it knows the route, and its refusals
	// are logged and measured like any answer.
	e.Use(h.exceptOnRedirect(h.measureRequests, h.recoverPanics, h.requestID, h.logRequests, securityHeaders(h.pageHeaders), h.authorize))
	h.routes(e)
	h.registered = map[route]bool{}
	for _, r := range e.Routes() {
		h.registered[route{r.Method, r.Path}] = true
	}
	return e
}

// routes is the one table of every URL the service answers, grouped by
// area; the comment on each line or block names the file of its handlers.
func (h *Handlers) routes(e *echo.Echo) {
	get(e, "/", h.adminHome)          // admin_auth.go
	get(e, "/healthz", h.Healthz)     // health.go
	get(e, "/readyz", h.Readyz)       // health.go
	h.staticFiles(e)                  // static.go: embedded CSS and JS (htmx)
	get(e, "/favicon.ico", h.Favicon) // static.go
	get(e, "/metrics", h.Metrics)     // metrics_access.go: loopback unless configured

	// JSON API: api_links.go, api_businesses.go, health.go, api_campaigns.go.
	// Keys are checked by authorize (authorize.go), like every permission.
	// The API gets no group middleware: a group's middleware makes Echo
	// catch every path and method under it, which would turn a wrong method
	// (405) into a 404.
	api := e.Group("/api/v1")
	get(api, "/openapi.json", h.OpenAPI) // openapi.go: no token needed
	get(e, "/api/docs", h.APIDocs)       // api_docs.go: the document as a page
	api.POST("/links", h.CreateLink)
	get(api, "/links", h.ListLinks) // api_links_list.go
	get(api, "/links/:slug", h.GetLink)
	api.POST("/links/:slug/deactivate", h.DeactivateLink)
	api.POST("/links/:slug/activate", h.ActivateLink)
	api.POST("/businesses", h.CreateBusiness)
	get(api, "/businesses", h.ListBusinesses)
	get(api, "/businesses/:id", h.GetBusiness) // with totals over its links
	get(api, "/health/duplicates", h.DuplicateHealth)
	api.POST("/campaigns/preview-sms", h.PreviewSMS)  // api_campaigns.go, over preview.go
	api.POST("/campaigns/sends", h.RecordSend)        // api_sends.go, over preview.go
	get(api, "/campaigns/sends", h.ListSends)         // api_sends.go
	get(api, "/campaigns/results", h.CampaignResults) // results.go
	get(api, "/audit", h.APIAudit)                    // admin_audit.go

	h.shlinkRoutes(e) // shlink.go: Shlink REST API v3 for its clients

	admin := h.adminRoutes(e) // admin_auth.go: sign-in, sessions, CSRF
	h.campaignPages(admin)    // campaigns.go, over preview.go
	h.linkPages(admin)        // admin_links.go
	h.healthPages(admin)      // admin_health.go
	h.resultsPages(admin)     // results.go
	h.templatePages(admin)    // admin_templates.go
	h.businessPages(admin)    // admin_businesses.go
	h.webhookPages(admin)     // admin_webhooks.go
	h.teamPages(admin)        // admin_users.go, admin_account.go, admin_audit.go

	get(e, redirectRoute, h.Redirect) // redirect.go: no page middleware, see exceptOnRedirect
}

// ReservedSlugs are the first path segments routes answers besides slugs:
// the store never generates them (cmd passes them in db.Options), and a
// test checks the table above against them. favicon and robots are asked
// for by browsers and crawlers; they must never become links (favicon.ico
// is served; it could not be a slug anyway, having a dot).
var ReservedSlugs = []string{
	"admin", "api", "static", "healthz", "readyz", "metrics", "login", "logout",
	"favicon", "favicon.ico", "robots",
	"rest", // the Shlink-compatible API (shlink.go)
}

// router is what Echo and its groups share for adding routes.
type router interface {
	Match(methods []string, path string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) []*echo.Route
}

var getAndHead = []string{http.MethodGet, http.MethodHead}

// get registers a GET route that answers HEAD too (Echo does not on its
// own); net/http drops the body of a HEAD response.
func get(r router, path string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) {
	r.Match(getAndHead, path, h, m...)
}

// shortURL is the public URL of a slug.
func (h *Handlers) shortURL(slug string) string { return h.cfg.BaseURL + "/" + slug }

// knownLinkType reports whether t is an accepted link type.
func (h *Handlers) knownLinkType(t string) bool { return slices.Contains(h.cfg.LinkTypes, t) }
