// Package admin serves the admin console, every page under /admin (and /,
// which sends there): sign-in, sessions and CSRF (admin_auth.go), campaign
// previews and "mark as sent" (campaigns.go, campaign_sends.go), results
// (results_page.go), links with CSV, detail and deactivation
// (admin_links*.go, admin_link_detail.go), businesses, message templates,
// webhooks, and the duplicate-health dashboard with its heal
// (admin_health.go, admin_heal.go). Pages are templ components from views,
// filled here and rendered through web.Render.
//
// It may import handlers/web, db, views, the campaign domain
// (handlers/campaign) and the pure rule packages (access, phone, stats,
// urlpolicy); never another surface
// (handlers/api, shlink, public, ops) nor the root handlers package. Its
// routes are lines of the root package's table (handlers/handlers.go).
package admin

import (
	"github.com/shortlinks/shortlinks/db"
	"github.com/shortlinks/shortlinks/handlers/web"
)

// CheckRequester asks the duplicate monitor (handlers/ops.Monitor) for a
// full check now on behalf of by (the audit trail's actor), and starts
// the console's heal in the background.
type CheckRequester interface {
	RequestCheck(by db.Actor)
	StartHeal(by db.Actor) error
}

// Handlers serves the console pages; build it with New.
type Handlers struct {
	*web.Base
	monitor CheckRequester // the health page's "Check now" and the heal
}

// New returns the console's handlers; it starts nothing.
func New(base *web.Base, monitor CheckRequester) *Handlers {
	return &Handlers{Base: base, monitor: monitor}
}
