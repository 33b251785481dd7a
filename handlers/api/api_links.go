package api

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/shortlinks/shortlinks/db"
	"github.com/shortlinks/shortlinks/handlers/web"
)

// linkJSON is a link as the API returns it.
type linkJSON struct {
	Slug           string    `json:"slug"`
	ShortURL       string    `json:"short_url"`
	DestinationURL string    `json:"destination_url"`
	LinkType       string    `json:"link_type"`
	BusinessID     *string   `json:"business_id"`
	SiteID         *string   `json:"site_id"`
	IsActive       bool      `json:"is_active"`
	ClickCount     int64     `json:"click_count"`
	PreviewCount   int64     `json:"preview_count"`
	SupersededBy   *string   `json:"superseded_by"` // slug of the link this one was merged into
	CreatedAt      time.Time `json:"created_at"`
	CreatedBy      *string   `json:"created_by,omitempty"` // nil for links older than the audit trail
	Created        *bool     `json:"created,omitempty"`
}

func (h *Handlers) linkJSON(l db.Link) linkJSON {
	return linkJSON{
		Slug: l.Slug, ShortURL: h.ShortURL(l.Slug), DestinationURL: l.DestinationURL,
		LinkType: l.LinkType, BusinessID: l.BusinessID, SiteID: l.SiteID, IsActive: l.IsActive,
		ClickCount: l.ClickCount, PreviewCount: l.PreviewCount, SupersededBy: l.SupersededBy, CreatedAt: l.CreatedAt,
		CreatedBy: l.CreatedBy,
	}
}

type createLinkRequest struct {
	DestinationURL *string `json:"destination_url"`
	LinkType       *string `json:"link_type"`
	BusinessID     *string `json:"business_id"`
	SiteID         *string `json:"site_id"`
}

// CreateLink is POST /api/v1/links: get-or-create the active link for a
// destination. 201 when this call created it, 200 when it already existed.
func (h *Handlers) CreateLink(c echo.Context) error {
	var body createLinkRequest
	if err := web.DecodeJSON(c, &body); err != nil {
		return err
	}
	req, err := h.linkRequest(body)
	if err != nil {
		return err
	}
	err = h.Store.CheckReferences(c.Request().Context(), req.BusinessID, req.SiteID)
	var link db.Link
	var created bool
	if err == nil {
		link, created, err = h.Store.GetOrCreateLink(c.Request().Context(), req)
	}
	var refErr *db.ReferenceError
	if errors.As(err, &refErr) {
		return web.Invalid(refErr.Column, "%s does not exist", refErr.Column)
	}
	if err != nil {
		return err
	}
	out := h.linkJSON(link)
	out.Created = &created
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	return c.JSON(status, out)
}

// linkRequest validates the body of CreateLink.
func (h *Handlers) linkRequest(b createLinkRequest) (db.LinkRequest, error) {
	if b.DestinationURL == nil || *b.DestinationURL == "" {
		return db.LinkRequest{}, web.Invalid("destination_url", "destination_url is required")
	}
	dest, err := h.NormalizeURL(*b.DestinationURL)
	if err != nil {
		return db.LinkRequest{}, web.Invalid("destination_url", "%s", err.Error())
	}
	linkType := db.LinkTypeSitePreview
	if b.LinkType != nil {
		linkType = *b.LinkType
	}
	if !h.KnownLinkType(linkType) {
		return db.LinkRequest{}, web.Invalid("link_type", "link_type must be one of %v", h.Cfg.LinkTypes)
	}
	for _, f := range []struct {
		name string
		id   *string
	}{{"business_id", b.BusinessID}, {"site_id", b.SiteID}} {
		if f.id != nil && !db.IsUUID(*f.id) {
			return db.LinkRequest{}, web.Invalid(f.name, "%s must be a UUID", f.name)
		}
	}
	return db.LinkRequest{DestinationURL: dest, LinkType: linkType, BusinessID: b.BusinessID, SiteID: b.SiteID}, nil
}

// GetLink is GET /api/v1/links/:slug.
func (h *Handlers) GetLink(c echo.Context) error {
	l, err := h.LinkParam(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, h.linkJSON(l))
}

// DeactivateLink is POST /api/v1/links/:slug/deactivate.
func (h *Handlers) DeactivateLink(c echo.Context) error {
	return h.setActive(c, h.Store.Deactivate)
}

// ActivateLink is POST /api/v1/links/:slug/activate; 409 when another
// active link has the destination.
func (h *Handlers) ActivateLink(c echo.Context) error {
	return h.setActive(c, h.Store.Activate)
}

func (h *Handlers) setActive(c echo.Context, op func(ctx context.Context, slug string) (db.Link, error)) error {
	slug := c.Param("slug")
	if !web.ValidSlug(slug) {
		return web.NotFound("link")
	}
	l, err := op(c.Request().Context(), slug)
	if errors.Is(err, db.ErrNotFound) {
		return web.NotFound("link")
	}
	if err != nil {
		return err
	}
	// Our own cache need not wait for the change notification.
	h.Redirects.Invalidate(slug)
	return c.JSON(http.StatusOK, h.linkJSON(l))
}
