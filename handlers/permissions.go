package handlers

import (
	"net/http"

	"github.com/shortlinks/shortlinks/handlers/access"
)

// route is a method and an Echo route pattern.
type route struct{ method, path string }

const (
	get_   = http.MethodGet
	post_  = http.MethodPost
	del_   = http.MethodDelete
	patch_ = http.MethodPatch
)

// routeRules is the permission every route needs: the one table authorize
// (web/authorize.go) enforces. HEAD follows GET. A route missing here is
// refused at run time and fails TestEveryRouteHasAPermissionRule.
// access.Public routes need no identity (some have their own guard, named
// in the comment); access.SignedIn ones need any signed-in user or key.
var routeRules = map[route]access.Permission{
	{get_, "/"}:            access.Public, // redirects to the console
	{get_, "/healthz"}:     access.Public,
	{get_, "/readyz"}:      access.Public,
	{get_, "/favicon.ico"}: access.Public,
	{get_, "/static/*"}:    access.Public,
	{get_, "/metrics"}:     access.Public, // its own guard: loopback or METRICS_TOKEN (metrics_access.go)
	{get_, "/:slug"}:       access.Public, // the redirect
	{get_, "/api/docs"}:    access.Public,

	{get_, "/api/v1/openapi.json"}:                          access.Public,
	{post_, "/api/v1/links"}:                                access.LinksCreate,
	{get_, "/api/v1/links"}:                                 access.LinksRead,
	{get_, "/api/v1/links/:slug"}:                           access.LinksRead,
	{post_, "/api/v1/links/:slug/deactivate"}:               access.LinksManage,
	{post_, "/api/v1/links/:slug/activate"}:                 access.LinksManage,
	{post_, "/api/v1/businesses"}:                           access.BusinessesEdit,
	{get_, "/api/v1/businesses"}:                            access.BusinessesRead,
	{get_, "/api/v1/businesses/:id"}:                        access.BusinessesRead,
	{post_, "/api/v1/businesses/import"}:                    access.BusinessesEdit,
	{post_, "/api/v1/businesses/:id/opt-out"}:               access.BusinessesEdit,
	{del_, "/api/v1/businesses/:id/opt-out"}:                access.BusinessesEdit,
	{post_, "/api/v1/campaigns/sends/:id/void"}:             access.SendsVoid,
	{get_, "/api/v1/health/duplicates"}:                     access.HealthRead,
	{post_, "/api/v1/campaigns/preview-sms"}:                access.CampaignsRead,
	{post_, "/api/v1/campaigns/sends"}:                      access.SendsRecord,
	{get_, "/api/v1/campaigns/sends"}:                       access.SendsRead,
	{get_, "/api/v1/campaigns/results"}:                     access.ResultsRead,
	{get_, "/api/v1/audit"}:                                 access.AuditRead,
	{get_, "/api/v1/webhooks/endpoints"}:                    access.WebhooksRead,
	{post_, "/api/v1/webhooks/endpoints"}:                   access.WebhooksManage,
	{get_, "/api/v1/webhooks/endpoints/:id"}:                access.WebhooksRead,
	{patch_, "/api/v1/webhooks/endpoints/:id"}:              access.WebhooksManage,
	{del_, "/api/v1/webhooks/endpoints/:id"}:                access.WebhooksManage,
	{post_, "/api/v1/webhooks/endpoints/:id/test"}:          access.WebhooksManage,
	{post_, "/api/v1/webhooks/endpoints/:id/rotate-secret"}: access.WebhooksManage,
	{get_, "/rest/health"}:                                  access.Public,
	{get_, "/rest/v3/health"}:                               access.Public,
	{post_, "/rest/v3/short-urls"}:                          access.LinksCreate,
	{get_, "/rest/v3/short-urls"}:                           access.LinksRead,
	{get_, "/rest/v3/short-urls/:shortCode"}:                access.LinksRead,
	{del_, "/rest/v3/short-urls/:shortCode"}:                access.LinksManage,
	{get_, "/rest/v3/short-urls/:shortCode/visits"}:         access.LinksRead,
	{get_, "/rest/v3/visits"}:                               access.LinksRead,

	{get_, "/admin"}:                      access.SignedIn,
	{get_, "/admin/"}:                     access.SignedIn,
	{get_, "/admin/login"}:                access.Public,
	{post_, "/admin/login"}:               access.Public,
	{post_, "/admin/logout"}:              access.Public, // signs out whoever is signed in
	{get_, "/admin/set-password/:token"}:  access.Public, // the token is the credential
	{post_, "/admin/set-password/:token"}: access.Public,

	{get_, "/admin/campaigns"}:                             access.CampaignsRead,
	{get_, "/admin/campaigns/:id"}:                         access.CampaignsRead,
	{get_, "/admin/campaigns/:id/preview"}:                 access.CampaignsRead,
	{post_, "/admin/campaigns/:id/sends"}:                  access.SendsRecord,
	{get_, "/admin/campaigns/queue"}:                       access.CampaignsRead,
	{get_, "/admin/campaigns/follow-ups"}:                  access.CampaignsRead,
	{post_, "/admin/campaigns/:id/opt-out"}:                access.BusinessesEdit,
	{post_, "/admin/campaigns/:id/reactivate"}:             access.LinksManage, // the sent link answers again
	{post_, "/admin/campaigns/sends/:send/void"}:           access.SendsVoid,
	{get_, "/admin/results/variants/:variant"}:             access.ResultsRead,
	{get_, "/admin/businesses/import"}:                     access.BusinessesEdit,
	{post_, "/admin/businesses/import"}:                    access.BusinessesEdit,
	{get_, "/admin/results"}:                               access.ResultsRead,
	{get_, "/admin/links"}:                                 access.LinksRead,
	{get_, "/admin/links.csv"}:                             access.LinksRead,
	{get_, "/admin/links/:slug"}:                           access.LinksRead,
	{get_, "/admin/links/:slug/deactivate"}:                access.LinksManage, // the confirmation page
	{post_, "/admin/links/:slug/deactivate"}:               access.LinksManage,
	{post_, "/admin/links/:slug/activate"}:                 access.LinksManage,
	{get_, "/admin/templates"}:                             access.TemplatesRead,
	{post_, "/admin/templates/:variant"}:                   access.TemplatesEdit,
	{post_, "/admin/templates/:variant/count"}:             access.TemplatesEdit, // the editor's live counter
	{get_, "/admin/businesses/new"}:                        access.BusinessesEdit,
	{post_, "/admin/businesses"}:                           access.BusinessesEdit,
	{get_, "/admin/businesses/:id/edit"}:                   access.BusinessesEdit,
	{post_, "/admin/businesses/:id"}:                       access.BusinessesEdit,
	{get_, "/admin/health"}:                                access.HealthRead,
	{get_, "/admin/health/heal"}:                           access.HealthRun, // the confirmation page
	{post_, "/admin/health/heal"}:                          access.HealthRun,
	{post_, "/admin/health/check"}:                         access.HealthRun,
	{post_, "/admin/health/dead-letters/:id/replay"}:       access.HealthRun, // admin only: writes a batch of clicks now
	{get_, "/admin/webhooks"}:                              access.WebhooksRead,
	{post_, "/admin/webhooks/deliveries/:id/retry"}:        access.WebhooksManage,
	{post_, "/admin/webhooks/endpoints/:id/retry"}:         access.WebhooksManage,
	{post_, "/admin/webhooks/endpoints"}:                   access.WebhooksManage,
	{get_, "/admin/webhooks/endpoints/:id"}:                access.WebhooksRead, // details; the form only for webhooks.manage
	{post_, "/admin/webhooks/endpoints/:id"}:               access.WebhooksManage,
	{post_, "/admin/webhooks/endpoints/:id/test"}:          access.WebhooksManage,
	{post_, "/admin/webhooks/endpoints/:id/rotate-secret"}: access.WebhooksManage,
	{post_, "/admin/webhooks/endpoints/:id/delete"}:        access.WebhooksManage,

	{get_, "/admin/users"}:                        access.UsersManage,
	{post_, "/admin/users"}:                       access.UsersManage,
	{post_, "/admin/users/:id/role"}:              access.UsersManage,
	{post_, "/admin/users/:id/disabled"}:          access.UsersManage,
	{post_, "/admin/users/:id/reset"}:             access.UsersManage,
	{get_, "/admin/account"}:                      access.SignedIn,
	{post_, "/admin/account/sessions/:id/end"}:    access.SignedIn,
	{post_, "/admin/account/sessions/end-others"}: access.SignedIn,
	{post_, "/admin/account/keys"}:                access.KeysOwn,
	{post_, "/admin/account/keys/:id/revoke"}:     access.KeysOwn,
	{get_, "/admin/audit"}:                        access.AuditRead,
	{get_, "/admin/audit.csv"}:                    access.AuditRead,
}

// PermissionFor returns the rule of a route (method and Echo pattern), for
// the tests that check every route has one.
func PermissionFor(method, path string) (access.Permission, bool) {
	if method == http.MethodHead {
		method = http.MethodGet
	}
	p, ok := routeRules[route{method, path}]
	return p, ok
}
