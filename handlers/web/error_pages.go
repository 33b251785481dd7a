package web

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/shortlinks/shortlinks/views"
)

// ErrorPage renders the HTML answer for apiErr. Under /admin it is a
// console page with its header and navigation and a title naming what went
// wrong; anywhere else the reader is most likely a recipient who tapped a
// link in an SMS, and gets a short phone-first page with a next step.
func (h *Base) ErrorPage(c echo.Context, apiErr *APIError) error {
	path := c.Request().URL.Path
	if path == "/admin" || strings.HasPrefix(path, "/admin/") {
		message := apiErr.Message
		if apiErr.Status == http.StatusNotFound {
			message = "Nothing is at this address: it may be mistyped, or what it showed was removed."
		}
		chrome := h.Chrome(c, adminErrorTitle(apiErr), "")
		return Render(c, apiErr.Status, views.ErrorPage(chrome, apiErr.Status, message))
	}
	title, message, next := recipientError(apiErr)
	return Render(c, apiErr.Status, views.RecipientPage(title, message, next))
}

// adminErrorTitle is the <h1> and <title> of a console error page.
func adminErrorTitle(e *APIError) string {
	switch {
	case e.Status == http.StatusNotFound && (e.Message == "not found" || e.Message == ""):
		return "Page not found" // no route: Echo's own 404
	case e.Status == http.StatusNotFound:
		return Capitalize(strings.TrimSuffix(e.Message, ".")) // "Business not found"
	case e.Code == "csrf":
		return "The form expired"
	case e.Code == "no_site":
		return "This business has no site to link to"
	case e.Code == "bad_site":
		return "This business's site cannot be linked to"
	case e.Status == http.StatusBadRequest:
		return "Something in the address is not right"
	case e.Status == http.StatusServiceUnavailable:
		return "The database is unavailable"
	}
	return http.StatusText(e.Status)
}

// recipientError is what a recipient reads: what happened, and what to do.
func recipientError(e *APIError) (title, message, next string) {
	switch {
	case e.Status == http.StatusNotFound:
		return "This link doesn’t work", "This short link does not exist. Check that the whole link was copied from the message.",
			"If it still doesn’t work, ask the sender for a new link."
	case e.Status == http.StatusGone:
		return "This link has ended", "The sender has retired this short link, so it no longer leads anywhere.",
			"Ask the sender for a new link."
	case e.Status == http.StatusTooManyRequests:
		return "Too many tries", "Too many requests came from your connection in a short time.", "Wait a minute, then try the link again."
	case e.Status >= 500:
		return "Something went wrong on our side", "The link could not be opened just now.", "Please try again in a few minutes."
	}
	return http.StatusText(e.Status), Sentence(e.Message), "Check the link and try again."
}

func Capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// sentence capitalises s and ends it with a full stop.
func Sentence(s string) string {
	s = Capitalize(strings.TrimSpace(s))
	if s == "" {
		return s
	}
	if !strings.HasSuffix(s, ".") && !strings.HasSuffix(s, "?") && !strings.HasSuffix(s, "!") {
		s += "."
	}
	return s
}
