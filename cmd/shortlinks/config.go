package main

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/shortlinks/shortlinks/db"
	"github.com/shortlinks/shortlinks/handlers"
	"github.com/shortlinks/shortlinks/handlers/redirects"
	"github.com/shortlinks/shortlinks/handlers/requestlog"
	"github.com/shortlinks/shortlinks/handlers/urlpolicy"
	"github.com/shortlinks/shortlinks/handlers/web"
)

// config is every setting, read from the environment and overridable by the
// flag of the same name in lower case (DATABASE_URL → -database-url).
type config struct {
	DatabaseURL    string
	Addr           string
	BaseURL        string
	APITokens      string
	AdminUser      string
	AdminPassword  string
	SessionSecret  string
	BcryptCost     int
	SlugLength     int
	LogLevel       string
	LogFormat      string
	MigrateOnStart bool
	RedirectStatus int
	LinkTypes      string
	ShlinkLinkType string
	MaxURLLength   int
	AllowedHosts   string
	AllowPrivate   bool

	StatementTimeout  time.Duration
	NotFoundRateLimit float64
	UnauthRateLimit   float64
	TokenRateLimit    float64
	TrustedProxies    string
	CORSOrigins       string

	ClickFlushInterval     time.Duration
	FlushStatementTimeout  time.Duration
	LinkCacheSize          int
	LinkCacheTTL           time.Duration
	MaxPendingClicks       int
	SMS                    smsConfig // config_sms.go
	MetricsPublic          bool
	MetricsToken           string
	Webhooks               webhookConfig // config_webhooks.go
	DuplicateCheckInterval time.Duration
	Outreach               outreachConfig // config_outreach.go
	AuditRetention         time.Duration

	envErrs []error // environment values that did not parse
}

// secretEnvs are settings whose values must never be printed: their flags
// have no default (flag help and parse errors print defaults), and the
// environment fills them in after parsing (fillSecrets).
var secretEnvs = []string{"DATABASE_URL", "API_TOKEN", "ADMIN_PASSWORD", "SESSION_SECRET", "METRICS_TOKEN", "WEBHOOK_SECRET"}

// register binds every setting to a flag whose default is the environment.
func (c *config) register(fs *flag.FlagSet) {
	str := func(p *string, env, def, usage string) {
		if slices.Contains(secretEnvs, env) {
			fs.StringVar(p, flagName(env), "", usage+" ("+env+"; not shown)")
			return
		}
		fs.StringVar(p, flagName(env), envOr(env, def), usage+" ("+env+")")
	}
	num := func(p *int, env string, def int, usage string) {
		fs.IntVar(p, flagName(env), envParse(env, def, strconv.Atoi, &c.envErrs), usage+" ("+env+")")
	}
	str(&c.DatabaseURL, "DATABASE_URL", "", "PostgreSQL URL")
	str(&c.Addr, "ADDR", "127.0.0.1:8080", "listen address")
	str(&c.BaseURL, "BASE_URL", "", "public base of short URLs (default http://ADDR)")
	str(&c.APITokens, "API_TOKEN", "", "comma-separated bearer tokens for /api/v1")
	str(&c.AdminUser, "ADMIN_USER", "admin", "admin console user")
	str(&c.AdminPassword, "ADMIN_PASSWORD", "", "admin console password or bcrypt hash")
	str(&c.SessionSecret, "SESSION_SECRET", "", "signs admin session cookies (default: a random key generated once and kept in the database)")
	num(&c.BcryptCost, "BCRYPT_COST", bcrypt.DefaultCost, "bcrypt cost of new password hashes (4-31; each step doubles the work)")
	num(&c.SlugLength, "SLUG_LENGTH", db.DefaultSlugLength, "length of new slugs")
	str(&c.LogLevel, "LOG_LEVEL", "info", "debug, info, warn or error")
	str(&c.LogFormat, "LOG_FORMAT", "json", "json or text")
	fs.BoolVar(&c.MigrateOnStart, "migrate-on-start", envParse("MIGRATE_ON_START", true, strconv.ParseBool, &c.envErrs), "apply pending migrations before serving (MIGRATE_ON_START)")
	num(&c.RedirectStatus, "REDIRECT_STATUS", 302, "redirect status: 301, 302, 307 or 308")
	str(&c.LinkTypes, "LINK_TYPES", strings.Join(web.DefaultLinkTypes(), ","), "accepted link types")
	str(&c.ShlinkLinkType, "SHLINK_LINK_TYPE", "campaign", "link type of links created through the Shlink-compatible API (/rest/v3)")
	num(&c.MaxURLLength, "MAX_URL_LENGTH", 4096, "longest destination URL in bytes")
	str(&c.AllowedHosts, "ALLOWED_DESTINATION_HOSTS", "", "comma-separated host suffixes destinations must match (empty: any)")
	fs.BoolVar(&c.AllowPrivate, "allow-private-destinations", envParse("ALLOW_PRIVATE_DESTINATIONS", false, strconv.ParseBool, &c.envErrs), "accept destinations on loopback, private, link-local and other non-public addresses, localhost and single-label hosts (ALLOW_PRIVATE_DESTINATIONS)")
	fs.DurationVar(&c.StatementTimeout, "statement-timeout", envParse("STATEMENT_TIMEOUT", 5*time.Second, time.ParseDuration, &c.envErrs), "longest a query may run while serving (STATEMENT_TIMEOUT)")
	rate := func(p *float64, env string, def float64, usage string) {
		fs.Float64Var(p, flagName(env), envParse(env, def, parseFloat, &c.envErrs), usage+" ("+env+")")
	}
	rate(&c.NotFoundRateLimit, "NOT_FOUND_RATE_LIMIT", 60, "unknown-slug lookups per minute per client, after a burst of 100")
	rate(&c.UnauthRateLimit, "UNAUTH_RATE_LIMIT", 30, "API calls without a valid token per minute per client")
	rate(&c.TokenRateLimit, "API_TOKEN_RATE_LIMIT", 0, "API calls per minute per token (0: unlimited)")
	str(&c.TrustedProxies, "TRUSTED_PROXIES", "", "comma-separated CIDRs of proxies whose X-Forwarded-For is trusted")
	str(&c.CORSOrigins, "CORS_ALLOWED_ORIGINS", "", "comma-separated origins (https://app.example.com) whose pages may call /api/v1 and /rest/, or * for any (empty: none)")
	dur := func(p *time.Duration, env string, def time.Duration, usage string) {
		fs.DurationVar(p, flagName(env), envParse(env, def, time.ParseDuration, &c.envErrs), usage+" ("+env+")")
	}
	dur(&c.ClickFlushInterval, "CLICK_FLUSH_INTERVAL", redirects.DefaultFlushInterval, "how often counted clicks are written to the database")
	dur(&c.FlushStatementTimeout, "FLUSH_STATEMENT_TIMEOUT", 5*time.Second, "longest one statement of a click flush may run (apart from STATEMENT_TIMEOUT); a batch that keeps timing out is split, down to one link, then kept in the dead-letter table")
	num(&c.LinkCacheSize, "LINK_CACHE_SIZE", redirects.DefaultCacheSize, "slugs kept in the redirect cache")
	dur(&c.LinkCacheTTL, "LINK_CACHE_TTL", redirects.DefaultCacheTTL, "how long a cached link is trusted while change notifications flow")
	num(&c.MaxPendingClicks, "MAX_PENDING_CLICKS", redirects.DefaultMaxPending, "distinct (link, day) click rows kept in memory while the database is away; clicks on further links are dropped and logged")
	c.SMS.register(str)
	fs.BoolVar(&c.MetricsPublic, "metrics-public", envParse("METRICS_PUBLIC", false, strconv.ParseBool, &c.envErrs), "serve /metrics to any client, not only loopback peers (METRICS_PUBLIC)")
	str(&c.MetricsToken, "METRICS_TOKEN", "", "bearer token that opens /metrics to non-loopback clients")
	fs.DurationVar(&c.DuplicateCheckInterval, "duplicate-check-interval", envParse("DUPLICATE_CHECK_INTERVAL", time.Hour, time.ParseDuration, &c.envErrs), "how often the full duplicate check runs, on one instance at a time (DUPLICATE_CHECK_INTERVAL)")
	c.Webhooks.register(fs, str, &c.envErrs)
	c.Outreach.register(str)
	fs.DurationVar(&c.AuditRetention, "audit-retention", envParse("AUDIT_RETENTION", db.DefaultAuditRetention, parseDays, &c.envErrs), "how long audit rows are kept, e.g. 400d or 9600h (AUDIT_RETENTION)")
}

// parseDays reads a duration that may be given in days ("400d").
func parseDays(s string) (time.Duration, error) {
	if d, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(d)
		if err != nil || n <= 0 {
			return 0, fmt.Errorf("%q is not a number of days", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	return time.ParseDuration(s)
}

// fillSecrets takes secret settings not given as flags from the environment.
func (c *config) fillSecrets() {
	for _, p := range []struct {
		dst *string
		env string
	}{{&c.DatabaseURL, "DATABASE_URL"}, {&c.APITokens, "API_TOKEN"}, {&c.AdminPassword, "ADMIN_PASSWORD"},
		{&c.SessionSecret, "SESSION_SECRET"}, {&c.MetricsToken, "METRICS_TOKEN"}, {&c.Webhooks.Secret, "WEBHOOK_SECRET"}} {
		if *p.dst == "" {
			*p.dst = os.Getenv(p.env)
		}
	}
}

// validate checks settings that flag parsing cannot.
func (c *config) validate() error {
	errs := slices.Clone(c.envErrs)
	switch c.RedirectStatus {
	case 301, 302, 307, 308:
	default:
		errs = append(errs, fmt.Errorf("REDIRECT_STATUS must be 301, 302, 307 or 308, not %d", c.RedirectStatus))
	}
	if c.SlugLength < 4 || c.SlugLength > 32 {
		errs = append(errs, fmt.Errorf("SLUG_LENGTH must be between 4 and 32, not %d", c.SlugLength))
	}
	if c.MaxURLLength < 64 || c.MaxURLLength > 65536 {
		errs = append(errs, fmt.Errorf("MAX_URL_LENGTH must be between 64 and 65536, not %d", c.MaxURLLength))
	}
	if !slices.Contains(splitList(c.LinkTypes), c.ShlinkLinkType) {
		errs = append(errs, fmt.Errorf("SHLINK_LINK_TYPE %q must be one of LINK_TYPES (%s)", c.ShlinkLinkType, c.LinkTypes))
	}
	if _, err := c.trustedProxies(); err != nil {
		errs = append(errs, err)
	}
	errs = append(errs, checkOrigins(splitList(c.CORSOrigins))...)
	if c.BcryptCost < bcrypt.MinCost || c.BcryptCost > bcrypt.MaxCost {
		errs = append(errs, fmt.Errorf("BCRYPT_COST must be %d to %d, not %d", bcrypt.MinCost, bcrypt.MaxCost, c.BcryptCost))
	}
	if c.AuditRetention < 24*time.Hour {
		errs = append(errs, fmt.Errorf("AUDIT_RETENTION must be at least a day, not %s", c.AuditRetention))
	}
	if _, err := parseLevel(c.LogLevel); err != nil {
		errs = append(errs, err)
	}
	errs = append(errs, c.validateRedirects()...)
	errs = append(errs, c.SMS.validate())
	errs = append(errs, c.Webhooks.validate())
	errs = append(errs, c.Outreach.validate())
	return errors.Join(errs...)
}

func (c *config) baseURL() string {
	if c.BaseURL != "" {
		return strings.TrimRight(c.BaseURL, "/")
	}
	return "http://" + c.Addr
}

func (c *config) handlersConfig() handlers.Config {
	return handlers.Config{
		Redirects:              c.redirectOptions(),
		BaseURL:                c.baseURL(),
		APITokens:              splitList(c.APITokens),
		LinkTypes:              splitList(c.LinkTypes),
		ShlinkLinkType:         c.ShlinkLinkType,
		URLPolicy:              c.urlPolicy(),
		RedirectStatus:         c.RedirectStatus,
		AdminUser:              c.AdminUser,
		AdminPassword:          c.AdminPassword,
		SessionSecret:          c.SessionSecret,
		BcryptCost:             c.BcryptCost,
		Limits:                 c.limits(),
		SMSRate:                c.SMS.rate,
		SMSTemplates:           c.SMS.templates,
		MetricsPublic:          c.MetricsPublic,
		MetricsToken:           c.MetricsToken,
		Webhooks:               c.Webhooks.opts,
		CORSAllowedOrigins:     splitList(c.CORSOrigins),
		DuplicateCheckInterval: c.DuplicateCheckInterval,
		PhoneRegion:            c.Outreach.PhoneRegion,
	}
}

func (c *config) validateRedirects() []error {
	var errs []error
	if c.ClickFlushInterval < 10*time.Millisecond || c.ClickFlushInterval > time.Minute {
		errs = append(errs, fmt.Errorf("CLICK_FLUSH_INTERVAL must be between 10ms and 1m, not %s", c.ClickFlushInterval))
	}
	if c.LinkCacheSize < 1 {
		errs = append(errs, fmt.Errorf("LINK_CACHE_SIZE must be positive, not %d", c.LinkCacheSize))
	}
	if c.LinkCacheTTL < time.Second || c.LinkCacheTTL > time.Hour {
		errs = append(errs, fmt.Errorf("LINK_CACHE_TTL must be between 1s and 1h, not %s", c.LinkCacheTTL))
	}
	if c.FlushStatementTimeout < 10*time.Millisecond || c.FlushStatementTimeout > 10*time.Minute {
		errs = append(errs, fmt.Errorf("FLUSH_STATEMENT_TIMEOUT must be between 10ms and 10m, not %s", c.FlushStatementTimeout))
	}
	if c.MaxPendingClicks < 1 {
		errs = append(errs, fmt.Errorf("MAX_PENDING_CLICKS must be positive, not %d", c.MaxPendingClicks))
	}
	return errs
}

// redirectOptions configures the redirect cache and click counting. The
// change feed dials DATABASE_URL itself (LISTEN needs a connection of its
// own, outside the pool), with a connect timeout so a reconnect during an
// outage fails fast instead of waiting on TCP.
func (c *config) redirectOptions() redirects.Options {
	listen, err := db.WithTimeouts(c.DatabaseURL, 5*time.Second, 0)
	if err != nil {
		listen = c.DatabaseURL // not a URL: openStore reports it
	}
	return redirects.Options{
		ListenURL:     listen,
		CacheSize:     c.LinkCacheSize,
		CacheTTL:      c.LinkCacheTTL,
		FlushInterval: c.ClickFlushInterval,
		// Above the statements' own bound: a flush is several of them.
		FlushTimeout: max(redirects.DefaultFlushTimeout, 3*c.FlushStatementTimeout),
		MaxPending:   c.MaxPendingClicks,
	}
}

func (c *config) limits() handlers.Limits {
	proxies, _ := c.trustedProxies()
	return handlers.Limits{
		NotFoundPerMinute: c.NotFoundRateLimit,
		UnauthPerMinute:   c.UnauthRateLimit,
		TokenPerMinute:    c.TokenRateLimit,
		TrustedProxies:    proxies,
	}
}

func (c *config) trustedProxies() ([]*net.IPNet, error) {
	var nets []*net.IPNet
	for _, s := range splitList(c.TrustedProxies) {
		if !strings.Contains(s, "/") {
			if strings.Contains(s, ":") {
				s += "/128"
			} else {
				s += "/32"
			}
		}
		_, n, err := net.ParseCIDR(s)
		if err != nil {
			return nil, fmt.Errorf("TRUSTED_PROXIES: %q is not an IP or CIDR", s)
		}
		nets = append(nets, n)
	}
	return nets, nil
}

func (c *config) urlPolicy() urlpolicy.Policy {
	return urlpolicy.Policy{MaxLength: c.MaxURLLength, AllowedHosts: urlpolicy.ParseHostList(c.AllowedHosts), AllowPrivate: c.AllowPrivate}
}

func (c *config) storeOptions() db.Options {
	return db.Options{SlugLength: c.SlugLength, ReservedSlugs: handlers.ReservedSlugs(), Log: c.logger(),
		FlushStatementTimeout: c.FlushStatementTimeout}
}

// logger builds the structured logger the settings ask for; lines logged
// with a request's context carry its ID (handlers/requestlog).
func (c *config) logger() *slog.Logger {
	level, _ := parseLevel(c.LogLevel)
	opts := &slog.HandlerOptions{Level: level}
	if c.LogFormat == "text" {
		return requestlog.Logger(slog.New(slog.NewTextHandler(os.Stderr, opts)))
	}
	return requestlog.Logger(slog.New(slog.NewJSONHandler(os.Stderr, opts)))
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("LOG_LEVEL must be debug, info, warn or error, not %q", s)
	}
	return l, nil
}

func flagName(env string) string { return strings.ToLower(strings.ReplaceAll(env, "_", "-")) }

func envOr(name, def string) string {
	if v, ok := os.LookupEnv(name); ok && v != "" {
		return v
	}
	return def
}

// envParse reads an environment setting with parse; an unset variable
// gives def, and one that does not parse is an error reported by validate
// (a typo must not silently become the default).
func envParse[T any](name string, def T, parse func(string) (T, error), errs *[]error) T {
	raw, ok := os.LookupEnv(name)
	if !ok || raw == "" {
		return def
	}
	v, err := parse(raw)
	if err != nil {
		*errs = append(*errs, fmt.Errorf("%s=%q is not valid", name, raw))
		return def
	}
	return v
}

func parseFloat(s string) (float64, error) { return strconv.ParseFloat(s, 64) }

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// checkOrigins refuses a CORS_ALLOWED_ORIGINS entry that a browser would
// never send as Origin (a path, a trailing slash, no scheme), which would
// silently allow nothing.
func checkOrigins(origins []string) []error {
	var errs []error
	for _, o := range origins {
		if o == "*" {
			continue
		}
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "" || u.RawQuery != "" || u.User != nil || u.Fragment != "" {
			errs = append(errs, fmt.Errorf("CORS_ALLOWED_ORIGINS: %q is not an origin such as https://app.example.com (scheme and host, no path)", o))
		}
	}
	return errs
}
