package admin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/shortlinks/shortlinks/db"
	"github.com/shortlinks/shortlinks/handlers/web"
	"github.com/shortlinks/shortlinks/views"
)

// oldestUnwrittenShownAfter is when the health page starts showing how
// long the oldest unwritten click has waited: a flush every second keeps
// it under one normally.
const oldestUnwrittenShownAfter = time.Minute

// clickHealth gathers the click-counting figures of the health page: this
// server's oldest unwritten click, and the dead letters every server left.
func (h *Handlers) clickHealth(ctx context.Context) views.ClickHealth {
	var p views.ClickHealth
	st := h.Redirects.Stats()
	if st.OldestUnwritten > oldestUnwrittenShownAfter {
		p.OldestUnwritten = st.OldestUnwritten.Round(time.Second).String()
		p.PendingClicks = st.PendingClicks
	}
	totals, err := h.Store.ClickDeadLetterTotals(ctx)
	if err == nil && totals.Letters > 0 {
		var letters []db.ClickDeadLetter
		letters, err = h.Store.ClickDeadLetters(ctx, 100)
		for _, l := range letters {
			row := views.ClickDeadLetterRow{ID: l.ID, Clicks: l.Clicks, Previews: l.Previews, Error: l.Error,
				Attempts: l.Attempts, Since: displayTime(l.CreatedAt)}
			if l.Slug != nil {
				row.Slug = *l.Slug
			}
			p.DeadLetters = append(p.DeadLetters, row)
		}
	}
	if err != nil {
		h.Log.WarnContext(ctx, "health page: click dead letters", "err", err)
		p.Unavailable = true
	}
	p.DeadTotal, p.DeadClicks = totals.Letters, totals.Clicks
	return p
}

// ReplayDeadLetter is POST /admin/health/dead-letters/:id/replay: it
// writes a dead letter's clicks now (once, whoever presses first) and
// comes back to the health page, which says how it went.
func (h *Handlers) ReplayDeadLetter(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id < 1 {
		return web.Invalid("id", "not a dead letter id")
	}
	msg := "replayed"
	l, err := h.Store.ReplayClickDeadLetter(c.Request().Context(), id)
	switch {
	case errors.Is(err, db.ErrNotFound):
		msg = "gone"
	case err != nil:
		h.Log.WarnContext(c.Request().Context(), "dead letter replay failed", "id", id, "err", err)
		msg = "failed"
	default:
		h.Log.Info("click dead letter replayed", "id", id, "link_id", l.LinkID, "clicks", l.Clicks, "ip", c.RealIP())
	}
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/admin/health?replay=%s&letter=%d&clicks=%d", msg, id, l.Clicks))
}

// replayFlash is the health page's message after a replay.
func replayFlash(c echo.Context) (string, bool) {
	letter, clicks := c.QueryParam("letter"), c.QueryParam("clicks")
	if _, err := strconv.ParseInt(letter, 10, 64); err != nil {
		return "", false
	}
	switch c.QueryParam("replay") {
	case "replayed":
		if _, err := strconv.ParseInt(clicks, 10, 64); err != nil {
			return "", false
		}
		return "Dead letter " + letter + " replayed: its " + clicks + " clicks are counted now.", false
	case "gone":
		return "Dead letter " + letter + " was already replayed.", false
	case "failed":
		return "Dead letter " + letter + " could not be written this time either; it is still kept. See the server log.", true
	}
	return "", false
}
