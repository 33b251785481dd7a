// Package handlers composes the HTTP surfaces of the service into one Echo
// server: the route table below (every URL one line), the middleware
// chain, the error handler, and ReservedSlugs. The surfaces are packages of
// their own, over the shared handlers/web:
//
//   - handlers/public: the redirect /:slug, and the unknown-slug limit
//   - handlers/api: the JSON API under /api/v1, its OpenAPI document, /api/docs
//   - handlers/shlink: the Shlink-compatible REST API under /rest
//   - handlers/admin: the admin console under /admin
//   - handlers/ops: /healthz, /readyz, /metrics, and the duplicate monitor
//
// Runtime (runtime.go) builds and starts the background work (the redirect
// service's click flusher and change feed, the duplicate monitor, the
// webhook worker) and stops it in order; cmd/shortlinks and the tests both
// use it. Building the handlers (New) starts no goroutine.
//
// It may import every handlers/ subpackage, db, views and static; never
// migrations or db/localpg.
package handlers

import (
	"net/http"
	"slices"

	"github.com/labstack/echo/v4"

	"github.com/shortlinks/shortlinks/handlers/admin"
	"github.com/shortlinks/shortlinks/handlers/api"
	"github.com/shortlinks/shortlinks/handlers/ops"
	"github.com/shortlinks/shortlinks/handlers/public"
	"github.com/shortlinks/shortlinks/handlers/shlink"
	"github.com/shortlinks/shortlinks/handlers/web"
)

// Config is everything the handlers read from configuration (web.Config).
type Config = web.Config

// Limits configures abuse protection (web.Limits).
type Limits = web.Limits

// RedirectStats are the redirect path's running totals since start.
type RedirectStats = public.RedirectStats

// Handlers serves every route; build it with New.
type Handlers struct {
	web    *web.Base
	admin  *admin.Handlers
	api    *api.Handlers
	shlink *shlink.Handlers
	public *public.Handlers
	ops    *ops.Handlers
}

// New returns the handlers of every surface over rt's shared base and
// workers. It starts nothing: rt's tasks are already running.
func New(rt *Runtime) *Handlers {
	b := rt.Base
	return &Handlers{
		web:    b,
		admin:  admin.New(b, rt.Monitor),
		api:    api.New(b),
		shlink: shlink.New(b),
		public: public.New(b),
		ops:    ops.New(b),
	}
}

// NewServer returns an Echo server with every route and the error handler.
func (h *Handlers) NewServer() *echo.Echo {
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	// One error mapping (handlers/web errors.go); the Shlink API answers in
	// its own format.
	e.HTTPErrorHandler = h.web.ErrorHandler(web.ErrorFormat{Prefix: "/rest/", Write: shlink.WriteProblem})
	e.IPExtractor = web.IPExtractor(h.web.Cfg.Limits)
	// One middleware (handlers/web middleware.go: ExceptOnRedirect): CORS
	// first on every request (web/cors.go: /api/v1 and /rest/ only; a
	// preflight is answered there), then the page chain on every route but
	// the redirect. No Pre middleware: with one, Echo allocates two more
	// closures per request, the redirect's included.
	// Authorize (web/authorize.go) is last: it knows the route, checks its
	// rule in permissions.go, and its refusals are logged and measured like
	// any answer.
	w := h.web
	// registered is every route of this server, filled in once the routes
	// are (a request before then cannot arrive: the server is not serving).
	registered := map[route]bool{}
	isRegistered := func(method, path string) bool {
		if method == http.MethodHead {
			method = http.MethodGet
		}
		return registered[route{method, path}]
	}
	authorize := w.Authorize(web.Rules{Rule: PermissionFor, Registered: isRegistered, ShlinkUnauthorized: shlink.Unauthorized})
	e.Use(w.ExceptOnRedirect(redirectRoute, w.MeasureRequests, w.RecoverPanics, w.RequestID, w.LogRequests, web.SecurityHeaders(w.PageHeaders), authorize))
	h.routes(e)
	for _, r := range e.Routes() {
		registered[route{r.Method, r.Path}] = true
	}
	return e
}

// redirectRoute is the route of the public redirect; the page middleware
// skips it.
const redirectRoute = "/:slug"

// routes is the one table of every URL the service answers, grouped by
// surface; the comment on a line or block names the package and file of
// its handlers.
func (h *Handlers) routes(e *echo.Echo) {
	get(e, "/", h.admin.Home)         // admin/admin_auth.go
	get(e, "/healthz", h.ops.Healthz) // ops/handlers.go
	get(e, "/readyz", h.ops.Readyz)   // ops/handlers.go, over ops/readiness.go
	get(e, "/static/*", h.Static)     // static.go: embedded CSS and JS (htmx)
	get(e, "/favicon.ico", h.Favicon) // static.go
	get(e, "/metrics", h.ops.Metrics) // ops/metrics_access.go: loopback unless configured

	// JSON API (handlers/api). A GET route names the query parameters it
	// honours (web/params.go: any other, or one not validly encoded, is a
	// 400 naming it).
	// Keys are checked by web.Authorize, like every permission
	// (permissions.go). No group middleware: a group's middleware makes
	// Echo catch every path and method under it, which would turn a wrong
	// method (405) into a 404.
	a, v1 := h.api, e.Group("/api/v1")
	get(v1, "/openapi.json", a.OpenAPI)                                                          // openapi.go: no token needed
	get(e, "/api/docs", a.APIDocs)                                                               // api_docs.go: the document as a page
	v1.POST("/links", a.CreateLink)                                                              // api_links.go
	get(v1, "/links", a.ListLinks, web.Params("q", "type", "active", "sort", "limit", "cursor")) // api_links_list.go
	get(v1, "/links/:slug", a.GetLink, web.Params())
	v1.POST("/links/:slug/deactivate", a.DeactivateLink)
	v1.POST("/links/:slug/activate", a.ActivateLink)
	v1.POST("/businesses", a.CreateBusiness) // api_businesses.go
	get(v1, "/businesses", a.ListBusinesses, web.Params("status", "limit", "cursor"))
	get(v1, "/businesses/:id", a.GetBusiness, web.Params())                  // with totals over its links
	v1.POST("/businesses/import", a.ImportBusinesses, web.Params("partial")) // api_import.go, over web/business_import.go
	v1.POST("/businesses/:id/opt-out", a.OptOut)                             // api_outreach.go
	v1.DELETE("/businesses/:id/opt-out", a.OptIn)
	v1.POST("/campaigns/sends/:id/void", a.VoidSend)                                       // api_outreach.go
	get(v1, "/health/duplicates", a.DuplicateHealth, web.Params())                         // health.go
	v1.POST("/campaigns/preview-sms", a.PreviewSMS)                                        // api_campaigns.go, over campaign/preview.go
	v1.POST("/campaigns/sends", a.RecordSend)                                              // api_sends.go, over campaign/sends.go
	get(v1, "/campaigns/sends", a.ListSends, web.Params("business_id", "limit", "cursor")) // api_sends.go
	get(v1, "/campaigns/results", a.CampaignResults, web.Params("since", "until", "by"))   // results.go, over web/results.go
	// api_webhooks.go, over web/webhook_endpoints.go: endpoints added here
	// or in the console, and the configured ones (read-only).
	get(v1, "/webhooks/endpoints", a.ListWebhookEndpoints, web.Params("limit", "cursor"))
	v1.POST("/webhooks/endpoints", a.CreateWebhookEndpoint)
	get(v1, "/webhooks/endpoints/:id", a.GetWebhookEndpoint, web.Params())
	v1.PATCH("/webhooks/endpoints/:id", a.UpdateWebhookEndpoint)
	v1.DELETE("/webhooks/endpoints/:id", a.DeleteWebhookEndpoint)
	v1.POST("/webhooks/endpoints/:id/test", a.TestWebhookEndpoint)
	v1.POST("/webhooks/endpoints/:id/rotate-secret", a.RotateWebhookSecret)
	get(v1, "/audit", a.ListAudit, web.Params("actor", "action", "object_type", "object_id", "since", "until", "limit", "cursor")) // api_audit.go

	// Shlink REST API v3 for its clients (handlers/shlink).
	s := h.shlink
	get(e, "/rest/health", s.ShlinkHealth) // shlink_lists.go
	rest := e.Group("/rest/v3")            // X-Api-Key checked by web.Authorize
	get(rest, "/health", s.ShlinkHealth)
	rest.POST("/short-urls", s.ShlinkCreateShortURL) // shlink.go
	get(rest, "/short-urls", s.ShlinkListShortURLs)  // shlink_lists.go
	get(rest, "/short-urls/:shortCode", s.ShlinkGetShortURL)
	rest.DELETE("/short-urls/:shortCode", s.ShlinkDeleteShortURL)
	get(rest, "/short-urls/:shortCode/visits", s.ShlinkShortURLVisits)
	get(rest, "/visits", s.ShlinkVisitsOverview)

	// Admin console (handlers/admin): CSRF on every route; the session is
	// web.Authorize's.
	ad := h.admin
	g := e.Group("/admin", ad.Middleware()...) // admin_auth.go
	get(g, "", ad.Home)
	get(g, "/", ad.Home)
	get(g, "/login", ad.LoginPage)
	g.POST("/login", ad.Login)
	g.POST("/logout", ad.Logout)
	get(g, "/set-password/:token", ad.SetPasswordPage) // admin_users.go: invite and reset links
	g.POST("/set-password/:token", ad.SetPassword)
	get(g, "/campaigns", ad.CampaignsPage) // campaigns.go, over handlers/campaign preview.go
	get(g, "/campaigns/:id", ad.CampaignPage)
	get(g, "/campaigns/:id/preview", ad.CampaignPreviewFragment)
	g.POST("/campaigns/:id/sends", ad.MarkSentForm)   // campaign_sends.go
	get(g, "/campaigns/queue", ad.OutreachQueue)      // outreach_pages.go
	get(g, "/campaigns/follow-ups", ad.FollowUpsPage) // outreach_pages.go
	g.POST("/campaigns/:id/opt-out", ad.OptOutForm)   // outreach_pages.go
	g.POST("/campaigns/:id/reactivate", ad.ReactivateSentLinkForm)
	g.POST("/campaigns/sends/:send/void", ad.VoidSendForm)
	get(g, "/results/variants/:variant", ad.VariantBusinessesPage) // outreach_pages.go
	get(g, "/businesses/import", ad.ImportPage)                    // outreach_pages.go, over web/business_import.go
	g.POST("/businesses/import", ad.ImportForm)
	get(g, "/links", ad.LinksPage)                              // admin_links.go
	get(g, "/links.csv", ad.LinksCSV)                           // admin_links_csv.go
	get(g, "/links/:slug", ad.LinkDetailPage)                   // admin_link_detail.go
	get(g, "/links/:slug/deactivate", ad.ConfirmDeactivatePage) // admin_links_confirm.go
	g.POST("/links/:slug/deactivate", ad.DeactivateLinkForm)
	g.POST("/links/:slug/activate", ad.ActivateLinkForm)
	get(g, "/health", ad.HealthPage) // admin_health.go
	g.POST("/health/check", ad.HealthCheckForm)
	get(g, "/health/heal", ad.HealPage) // admin_heal.go
	g.POST("/health/heal", ad.HealNow)
	g.POST("/health/dead-letters/:id/replay", ad.ReplayDeadLetter) // admin_click_health.go
	get(g, "/results", ad.ResultsPage)                             // results_page.go
	get(g, "/templates", ad.TemplatesPage)                         // admin_templates.go
	g.POST("/templates/:variant", ad.SaveTemplate)
	g.POST("/templates/:variant/count", ad.CountTemplate)
	get(g, "/businesses/new", ad.NewBusinessPage) // admin_businesses.go
	g.POST("/businesses", ad.AddBusinessForm)
	get(g, "/businesses/:id/edit", ad.EditBusinessPage)
	g.POST("/businesses/:id", ad.EditBusinessForm)
	get(g, "/webhooks", ad.WebhooksPage) // admin_webhooks.go
	g.POST("/webhooks/deliveries/:id/retry", ad.RetryDeliveryForm)
	g.POST("/webhooks/endpoints/:id/retry", ad.RetryEndpointForm)
	g.POST("/webhooks/endpoints", ad.AddEndpointForm) // admin_webhook_endpoints.go
	get(g, "/webhooks/endpoints/:id", ad.WebhookEndpointPage)
	g.POST("/webhooks/endpoints/:id", ad.SaveEndpointForm)
	g.POST("/webhooks/endpoints/:id/test", ad.TestEndpointForm)
	g.POST("/webhooks/endpoints/:id/rotate-secret", ad.RotateSecretForm)
	g.POST("/webhooks/endpoints/:id/delete", ad.DeleteEndpointForm)
	get(g, "/users", ad.UsersPage) // admin_users.go
	g.POST("/users", ad.InviteUser)
	g.POST("/users/:id/role", ad.ChangeUserRole)
	g.POST("/users/:id/disabled", ad.SetUserDisabled)
	g.POST("/users/:id/reset", ad.IssueResetLink)
	get(g, "/account", ad.AccountPage) // admin_account.go: sessions and API keys
	g.POST("/account/sessions/:id/end", ad.EndSession)
	g.POST("/account/sessions/end-others", ad.EndOtherSessions)
	g.POST("/account/keys", ad.CreateKey)
	g.POST("/account/keys/:id/revoke", ad.RevokeKey)
	get(g, "/audit", ad.AuditPage) // admin_audit.go
	get(g, "/audit.csv", ad.AuditCSV)

	// Public redirect (handlers/public): no page middleware, see ExceptOnRedirect.
	get(e, redirectRoute, h.public.Redirect) // redirect.go
}

// ReservedSlugs are the first path segments routes answers besides slugs:
// the store never generates them (cmd passes them in db.Options), and a
// test checks the table above against them. favicon and robots are asked
// for by browsers and crawlers; they must never become links (favicon.ico
// is served; it could not be a slug anyway, having a dot). A new slice each
// call, so no caller can change the table.
func ReservedSlugs() []string { return slices.Clone(reservedSlugs) }

var reservedSlugs = []string{
	"admin", "api", "static", "healthz", "readyz", "metrics", "login", "logout",
	"favicon", "favicon.ico", "robots",
	"rest", // the Shlink-compatible API (handlers/shlink)
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

// RedirectStats returns the counters of the redirect path (cache, clicks,
// flushes); /metrics reads them at every scrape.
func (h *Handlers) RedirectStats() RedirectStats { return h.public.RedirectStats() }
