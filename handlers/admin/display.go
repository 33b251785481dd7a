package admin

import (
	"fmt"
	"time"

	"github.com/shortlinks/shortlinks/db"
	"github.com/shortlinks/shortlinks/handlers/campaign"
	"github.com/shortlinks/shortlinks/handlers/web"
	"github.com/shortlinks/shortlinks/views"
)

// How the console shows a time and a business's outreach status, on every
// page that does (campaigns, the queue, links, health): one place, not a
// helper borrowed from another page's file.

// displayTime formats a timestamp for the console, in UTC so every admin
// reads the same time.
func displayTime(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }

// outreachBadge is a business's status as the pages show it.
func outreachBadge(b db.Business) views.OutreachBadge {
	o := views.OutreachBadge{Status: b.OutreachStatus, Label: outreachLabel(b.OutreachStatus)}
	switch b.OutreachStatus {
	case db.OutreachSent:
		o.Detail = campaign.DisplayName(web.Deref(b.LastVariant)) + ", " + displayTime(*b.LastSentAt)
		if b.LastSentBy != nil {
			o.Detail += " by " + *b.LastSentBy
		}
	case db.OutreachTapped:
		o.Detail = fmt.Sprintf("%d %s", b.Taps, views.Plural(b.Taps, "tap", "taps"))
		if b.FirstTapAt != nil {
			o.Detail += ", first " + displayTime(*b.FirstTapAt)
		}
	case db.OutreachOptedOut:
		if b.OptedOutAt != nil {
			o.Detail = "since " + displayTime(*b.OptedOutAt)
		}
	}
	return o
}

func outreachLabel(status string) string {
	switch status {
	case db.OutreachSent:
		return "Sent"
	case db.OutreachTapped:
		return "Tapped"
	case db.OutreachOptedOut:
		return "Opted out"
	}
	return "Not sent"
}
