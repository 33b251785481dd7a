// Package web is what every HTTP surface of the service shares: the
// configuration (Config), the dependencies every handler reaches (Base: the
// store, the logger, sessions, rate limits, metrics, the redirect cache to
// invalidate), the one error mapping (errors.go: toAPIError and the Echo
// error handler), rendering into a buffer (pages.go: Render, Chrome), JSON
// in (jsonio.go: DecodeJSON), the middleware chain (middleware.go, metrics.go),
// sessions and CSRF (session.go), the token check (auth.go), rate limits
// (abuse.go, ratelimit.go), idempotency keys and request parameters
// (idempotency.go, validate.go).
//
// It also holds the request logic more than one surface calls that is not
// the SMS rules (those are handlers/campaign, reached through Base.Campaign):
// business creation (businesses.go), the results figures (results.go), the
// duplicate-health figures (health.go) and the link listing's query
// (links_query.go).
//
// It may import db, views, static, handlers/redirects, handlers/webhooks,
// handlers/campaign and the pure logic packages (handlers/urlpolicy, stats,
// requestlog); it
// never imports a surface package (handlers/admin, api, shlink, public,
// ops) nor the root handlers package, and it starts no goroutine of its own
// (readiness's ping lives in handlers/ops).
package web

import (
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/shortlinks/shortlinks/db"
	"github.com/shortlinks/shortlinks/handlers/campaign"
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
	AdminPassword  string // plain text or a bcrypt hash; empty: no bootstrap admin (BootstrapAdmin)
	SessionSecret  string // signs session cookies; a random key kept in the database when empty
	// BcryptCost is the cost of password hashes (BCRYPT_COST);
	// bcrypt.DefaultCost when zero. Tests set bcrypt.MinCost.
	BcryptCost    int
	SMSRate       campaign.Rate      // price of one SMS segment; campaign.DefaultRate() when zero
	SMSTemplates  campaign.Templates // message per variant; campaign.DefaultTemplates() when nil
	Limits        Limits
	MetricsPublic bool   // serve /metrics to anyone, not only loopback peers
	MetricsToken  string // bearer token that opens /metrics from anywhere; empty: none
	// DuplicateCheckInterval is how often the full duplicate check runs
	// (one instance at a time); DefaultDuplicateCheckInterval when zero.
	DuplicateCheckInterval time.Duration
	// PhoneRegion is the region of phone numbers entered without a
	// +country code (PHONE_DEFAULT_REGION); phone.DefaultRegion when "".
	PhoneRegion string
	// Redirects tunes the redirect cache and click counting; its
	// CheckDestination defaults to URLPolicy.
	Redirects redirects.Options
	// CORSAllowedOrigins are the origins (scheme://host[:port], or "*")
	// whose pages may call /api/v1 and /rest/ (CORS_ALLOWED_ORIGINS; cors.go).
	CORSAllowedOrigins []string
	// Webhooks configures the delivery worker, the endpoints' secret
	// rotation and their test events (webhook_endpoints.go).
	Webhooks webhooks.Options
}

// DefaultLinkTypes returns the link types accepted when none are configured.
func DefaultLinkTypes() []string {
	return []string{db.LinkTypeSitePreview, "campaign", "sms", "email", "social", "qr"}
}

// DefaultDuplicateCheckInterval is how often the full duplicate check runs
// when none is configured.
const DefaultDuplicateCheckInterval = time.Hour

// WithDefaults returns cfg with every zero value replaced by its default.
func (cfg Config) WithDefaults() Config {
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	if len(cfg.LinkTypes) == 0 {
		cfg.LinkTypes = DefaultLinkTypes()
	}
	if cfg.ShlinkLinkType == "" {
		cfg.ShlinkLinkType = "campaign"
	}
	if cfg.RedirectStatus == 0 {
		cfg.RedirectStatus = http.StatusFound
	}
	cfg.Limits = cfg.Limits.WithDefaults()
	if cfg.DuplicateCheckInterval <= 0 {
		cfg.DuplicateCheckInterval = DefaultDuplicateCheckInterval
	}
	if cfg.SMSRate.Currency == "" {
		cfg.SMSRate = campaign.DefaultRate()
	}
	if cfg.SMSTemplates == nil {
		cfg.SMSTemplates = campaign.DefaultTemplates()
	}
	return cfg
}

// Base holds what every surface's handlers use; each surface's Handlers
// embeds it. Building it starts nothing.
type Base struct {
	Store       *db.Store
	Cfg         Config // with defaults applied
	Log         *slog.Logger
	Sessions    *Sessions
	Limits      Limiters
	Metrics     *Metrics
	PageHeaders map[string][]string // middleware.go: security headers of pages, API answers, error pages
	// Redirects is the redirect cache and click counter, built and started
	// by the caller (cmd/shortlinks through handlers.Runtime); the surfaces
	// that change links invalidate its entries.
	Redirects *redirects.Service
	// Campaign is the SMS rules (handlers/campaign): the one entry point
	// of previews and sends for every surface.
	Campaign *campaign.Service
	// WebhookTester sends "Send test event" requests (no goroutine).
	WebhookTester *webhooks.Tester
}

// NewBase returns the shared part of the handlers over store: the config
// with its defaults, the logger wrapped so every line carries the request
// ID, sessions, limits and the metrics registry with the store's figures.
func NewBase(store *db.Store, cfg Config, log *slog.Logger) *Base {
	cfg = cfg.WithDefaults()
	b := &Base{
		Store: store, Cfg: cfg, Log: requestlog.Logger(log), // lines carry the request ID
		Sessions:    NewSessions(cfg, store),
		Limits:      NewLimiters(cfg.Limits),
		Metrics:     NewMetrics(log),
		PageHeaders: pageHeaders(cfg.BaseURL),
		// Its client holds idle connections only; it starts nothing.
		WebhookTester: webhooks.NewTester(cfg.Webhooks),
	}
	b.Campaign = &campaign.Service{Store: store, Rate: cfg.SMSRate, Templates: cfg.SMSTemplates,
		Destination: b.NormalizeURL, ShortURL: b.ShortURL}
	b.Metrics.RegisterStore(store)
	return b
}

// ShortURL is the public URL of a slug.
func (h *Base) ShortURL(slug string) string { return h.Cfg.BaseURL + "/" + slug }

// KnownLinkType reports whether t is an accepted link type.
func (h *Base) KnownLinkType(t string) bool { return slices.Contains(h.Cfg.LinkTypes, t) }
