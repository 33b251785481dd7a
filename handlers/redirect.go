package handlers

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/shortlinks/shortlinks/db"
)

// Redirect is GET and HEAD /:slug: send the recipient on and count the tap.
func (h *Handlers) Redirect(c echo.Context) error {
	slug := c.Param("slug")
	if !validSlug(slug) {
		return &APIError{Status: http.StatusNotFound, Code: "not_found", Message: "This short link does not exist."}
	}
	ctx := c.Request().Context()
	l, err := h.store.FindBySlug(ctx, slug)
	if errors.Is(err, db.ErrNotFound) {
		return &APIError{Status: http.StatusNotFound, Code: "not_found", Message: "This short link does not exist."}
	}
	if err != nil {
		return err
	}
	if !l.IsActive {
		return &APIError{Status: http.StatusGone, Code: "gone", Message: "This short link has been retired."}
	}
	if _, err := h.cfg.URLPolicy.Normalize(l.DestinationURL); err != nil {
		h.log.Warn("refusing to redirect to an invalid destination", "slug", slug, "err", err)
		return &APIError{Status: http.StatusNotFound, Code: "not_found", Message: "This short link does not exist."}
	}
	if c.Request().Method == http.MethodGet {
		if err := h.store.RecordClick(ctx, l.ID); err != nil {
			return err
		}
	}
	c.Response().Header().Set(echo.HeaderCacheControl, "private, max-age=0")
	return c.Redirect(h.cfg.RedirectStatus, l.DestinationURL)
}
