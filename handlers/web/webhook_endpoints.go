package web

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/shortlinks/shortlinks/db"
	"github.com/shortlinks/shortlinks/handlers/webhooks"
)

// WebhookEndpointRequest is what the API's JSON and the console's form
// both carry to add an endpoint (every field) or change one (the fields
// given). EventTypes empty means every event.
type WebhookEndpointRequest struct {
	URL        *string   `json:"url"`
	EventTypes *[]string `json:"event_types"`
	Disabled   *bool     `json:"disabled"`
}

// maxWebhookURLLength bounds an endpoint URL.
const maxWebhookURLLength = 2048

// Validate checks the fields given; create says url is required.
func (r WebhookEndpointRequest) Validate(create, allowPrivate bool) error {
	if r.URL == nil && create {
		return Invalid("url", "url is required")
	}
	if r.URL != nil {
		if len(*r.URL) > maxWebhookURLLength || !IsPlainText(*r.URL) {
			return Invalid("url", "url must be a plain http:// or https:// URL of at most %d bytes", maxWebhookURLLength)
		}
		if err := webhooks.CheckEndpointURL(strings.TrimSpace(*r.URL), allowPrivate); err != nil {
			return Invalid("url", "%s", err.Error())
		}
	}
	if r.EventTypes != nil {
		seen := map[string]bool{}
		for _, t := range *r.EventTypes {
			if !slices.Contains(db.WebhookEventTypes, t) || seen[t] {
				e := Invalid("event_types", "event_types must list distinct event types among %s (empty: every event); %q is not one", strings.Join(db.WebhookEventTypes, ", "), t)
				e.Allowed = db.WebhookEventTypes
				return e
			}
			seen[t] = true
		}
	}
	return nil
}

// EndpointState is an endpoint's health in one word, the same on the page
// and in the API: healthy, failing, suspended or disabled.
func EndpointState(e db.WebhookEndpoint) string {
	switch {
	case !e.Enabled:
		return "disabled"
	case e.Suspended():
		return "suspended"
	case e.ConsecutiveFailures > 0:
		return "failing"
	}
	return "healthy"
}

// RedactURL hides a password in an endpoint URL.
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	return u.Redacted()
}

// WebhookEndpointParam reads the endpoint the route's :id names; 404 for
// anything that is not one.
func (h *Base) WebhookEndpointParam(c echo.Context) (db.WebhookEndpoint, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return db.WebhookEndpoint{}, NotFound("webhook endpoint")
	}
	e, err := h.Store.WebhookEndpoint(c.Request().Context(), id)
	if err != nil {
		return db.WebhookEndpoint{}, WebhookEndpointError(err)
	}
	return e, nil
}

// WebhookEndpointError says what a refused change means for an endpoint.
func WebhookEndpointError(err error) error {
	switch {
	case errors.Is(err, db.ErrNotFound):
		return NotFound("webhook endpoint")
	case errors.Is(err, db.ErrManagedByConfig):
		return &APIError{Status: http.StatusConflict, Code: "managed_by_config",
			Message: "this endpoint is configured by WEBHOOK_URLS and WEBHOOK_SECRET; change it there"}
	case errors.Is(err, db.ErrConflict):
		return &APIError{Status: http.StatusConflict, Code: "conflict", Field: "url",
			Message: "another webhook endpoint already has this url"}
	}
	return err
}

// AddWebhookEndpoint validates and adds an endpoint with a new secret,
// returned to be shown once.
func (h *Base) AddWebhookEndpoint(c echo.Context, req WebhookEndpointRequest) (db.WebhookEndpoint, string, error) {
	if err := req.Validate(true, h.Cfg.Webhooks.AllowPrivate); err != nil {
		return db.WebhookEndpoint{}, "", err
	}
	ne := db.NewWebhookEndpoint{URL: strings.TrimSpace(*req.URL), Secret: webhooks.NewSecret()}
	if req.EventTypes != nil {
		ne.EventTypes = *req.EventTypes
	}
	if req.Disabled != nil {
		ne.Disabled = *req.Disabled
	}
	ctx := c.Request().Context()
	e, err := h.Store.CreateWebhookEndpoint(ctx, ne)
	if err != nil {
		return db.WebhookEndpoint{}, "", WebhookEndpointError(err)
	}
	h.Log.InfoContext(ctx, "webhook endpoint added", "endpoint", e.ID, "url", RedactURL(e.URL), "event_types", ne.EventTypes)
	return e, ne.Secret, nil
}

// ChangeWebhookEndpoint validates and applies req to endpoint id.
func (h *Base) ChangeWebhookEndpoint(c echo.Context, id int64, req WebhookEndpointRequest) (db.WebhookEndpoint, error) {
	if err := req.Validate(false, h.Cfg.Webhooks.AllowPrivate); err != nil {
		return db.WebhookEndpoint{}, err
	}
	if req.URL != nil {
		u := strings.TrimSpace(*req.URL)
		req.URL = &u
	}
	ctx := c.Request().Context()
	e, err := h.Store.UpdateWebhookEndpoint(ctx, id, db.WebhookEndpointPatch{URL: req.URL, EventTypes: req.EventTypes, Disabled: req.Disabled})
	if err != nil {
		return db.WebhookEndpoint{}, WebhookEndpointError(err)
	}
	h.Log.InfoContext(ctx, "webhook endpoint changed", "endpoint", e.ID, "url", RedactURL(e.URL), "event_types", []string(e.EventTypes), "disabled", !e.Enabled)
	return e, nil
}

// RemoveWebhookEndpoint removes endpoint e and its delivery log.
func (h *Base) RemoveWebhookEndpoint(c echo.Context, e db.WebhookEndpoint) error {
	ctx := c.Request().Context()
	if err := h.Store.DeleteWebhookEndpoint(ctx, e.ID); err != nil {
		return WebhookEndpointError(err)
	}
	h.Log.InfoContext(ctx, "webhook endpoint deleted", "endpoint", e.ID, "url", RedactURL(e.URL))
	return nil
}

// RotateEndpointSecret gives endpoint id a new secret, returned to be shown
// once; the old one keeps signing for WEBHOOK_SECRET_OVERLAP.
func (h *Base) RotateEndpointSecret(c echo.Context, id int64) (db.WebhookEndpoint, string, error) {
	secret := webhooks.NewSecret()
	ctx := c.Request().Context()
	e, err := h.Store.RotateWebhookSecret(ctx, id, secret, h.Cfg.Webhooks.RotationOverlap)
	if err != nil {
		return db.WebhookEndpoint{}, "", WebhookEndpointError(err)
	}
	h.Log.InfoContext(ctx, "webhook secret rotated", "endpoint", e.ID, "previous_valid_until", e.RotatingUntil)
	return e, secret, nil
}

// SendTestEvent sends a signed webhook.test to e now, whatever its filter.
func (h *Base) SendTestEvent(c echo.Context, e db.WebhookEndpoint) (webhooks.TestResult, error) {
	ctx := c.Request().Context()
	secrets, err := h.Store.WebhookEndpointSecrets(ctx, e.ID)
	if err != nil {
		return webhooks.TestResult{}, WebhookEndpointError(err)
	}
	res := h.WebhookTester.Send(ctx, e, secrets)
	h.Log.InfoContext(ctx, "webhook test event sent", "endpoint", e.ID, "status", res.Status, "delivered", res.Delivered, "err", res.Error)
	// Nothing stored changed: the row stands alone, as a failed sign-in's.
	err = h.Store.Audit(ctx, db.AuditWebhookTested, "webhook_endpoint", strconv.FormatInt(e.ID, 10),
		map[string]any{"status": res.Status, "delivered": res.Delivered})
	return res, err
}
