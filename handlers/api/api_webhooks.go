package api

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/shortlinks/shortlinks/db"
	"github.com/shortlinks/shortlinks/handlers/web"
)

// webhookEndpointJSON is an endpoint as the API shows it. Secret is set
// only in the answers that create or rotate it: it is shown once.
type webhookEndpointJSON struct {
	ID                  int64      `json:"id"`
	URL                 string     `json:"url"`
	EventTypes          []string   `json:"event_types"` // empty: every event
	Disabled            bool       `json:"disabled"`
	Source              string     `json:"source"` // "api" or "config" (WEBHOOK_URLS, read-only)
	State               string     `json:"state"`  // healthy, failing, suspended or disabled
	CreatedAt           time.Time  `json:"created_at"`
	Pending             int64      `json:"pending"`
	Failed              int64      `json:"failed"`
	ConsecutiveFailures int        `json:"consecutive_failures"`
	FailingSince        *time.Time `json:"failing_since"`
	LastSuccessAt       *time.Time `json:"last_success_at"`
	LastError           string     `json:"last_error"`
	RotatingUntil       *time.Time `json:"previous_secret_expires_at"`
	Secret              string     `json:"secret,omitempty"`
}

func toWebhookEndpointJSON(e db.WebhookEndpoint) webhookEndpointJSON {
	j := webhookEndpointJSON{ID: e.ID, URL: e.URL, EventTypes: []string(e.EventTypes), Disabled: !e.Enabled,
		Source: e.Source, State: web.EndpointState(e), CreatedAt: e.CreatedAt, Pending: e.Pending, Failed: e.Failed,
		ConsecutiveFailures: e.ConsecutiveFailures, FailingSince: e.FailingSince, LastSuccessAt: e.LastSuccessAt,
		LastError: e.LastError, RotatingUntil: e.RotatingUntil}
	if j.EventTypes == nil {
		j.EventTypes = []string{}
	}
	if e.Source == db.WebhookSourceConfig {
		j.URL = web.RedactURL(e.URL) // configured by the operator, perhaps with a password in it
	}
	return j
}

// webhookEndpointsDefaultLimit is a page of GET /api/v1/webhooks/endpoints.
const webhookEndpointsDefaultLimit = 50

// ListWebhookEndpoints is GET /api/v1/webhooks/endpoints?limit=&cursor=:
// every endpoint, the configured ones included, oldest first.
func (h *Handlers) ListWebhookEndpoints(c echo.Context) error {
	limit, err := web.LimitParam(c, webhookEndpointsDefaultLimit)
	if err != nil {
		return err
	}
	cur, err := web.CursorParam(c, "endpoint")
	if err != nil {
		return err
	}
	page, next, err := h.Store.WebhookEndpointsPage(c.Request().Context(), limit, cur)
	if errors.Is(err, db.ErrInvalidInput) {
		return web.Invalid("cursor", "cursor must be a next_cursor of this listing")
	}
	if err != nil {
		return err
	}
	out := struct {
		Endpoints  []webhookEndpointJSON `json:"endpoints"`
		NextCursor string                `json:"next_cursor,omitempty"`
	}{Endpoints: make([]webhookEndpointJSON, 0, len(page))}
	for _, e := range page {
		out.Endpoints = append(out.Endpoints, toWebhookEndpointJSON(e))
	}
	if next != nil {
		out.NextCursor = next.String()
	}
	return c.JSON(http.StatusOK, out)
}

// CreateWebhookEndpoint is POST /api/v1/webhooks/endpoints: a new endpoint
// with a generated whsec_ secret, returned this once.
func (h *Handlers) CreateWebhookEndpoint(c echo.Context) error {
	var req web.WebhookEndpointRequest
	if err := web.DecodeJSON(c, &req); err != nil {
		return err
	}
	e, secret, err := h.AddWebhookEndpoint(c, req)
	if err != nil {
		return err
	}
	out := toWebhookEndpointJSON(e)
	out.Secret = secret
	c.Response().Header().Set(echo.HeaderLocation, "/api/v1/webhooks/endpoints/"+strconv.FormatInt(e.ID, 10))
	return c.JSON(http.StatusCreated, out)
}

// GetWebhookEndpoint is GET /api/v1/webhooks/endpoints/{id}.
func (h *Handlers) GetWebhookEndpoint(c echo.Context) error {
	e, err := h.WebhookEndpointParam(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toWebhookEndpointJSON(e))
}

// UpdateWebhookEndpoint is PATCH /api/v1/webhooks/endpoints/{id}: the
// fields given change (url, event_types, disabled); a configured endpoint
// is read-only (409).
func (h *Handlers) UpdateWebhookEndpoint(c echo.Context) error {
	cur, err := h.WebhookEndpointParam(c)
	if err != nil {
		return err
	}
	var req web.WebhookEndpointRequest
	if err := web.DecodeJSON(c, &req); err != nil {
		return err
	}
	e, err := h.ChangeWebhookEndpoint(c, cur.ID, req)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toWebhookEndpointJSON(e))
}

// DeleteWebhookEndpoint is DELETE /api/v1/webhooks/endpoints/{id}: the
// endpoint and its delivery log go; events not yet sent to it are dropped.
func (h *Handlers) DeleteWebhookEndpoint(c echo.Context) error {
	cur, err := h.WebhookEndpointParam(c)
	if err != nil {
		return err
	}
	if err := h.RemoveWebhookEndpoint(c, cur); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// TestWebhookEndpoint is POST /api/v1/webhooks/endpoints/{id}/test: a
// signed webhook.test event is sent now, whatever the endpoint's filter,
// and the receiver's answer returned (200 whether or not it accepted).
func (h *Handlers) TestWebhookEndpoint(c echo.Context) error {
	e, err := h.WebhookEndpointParam(c)
	if err != nil {
		return err
	}
	res, err := h.SendTestEvent(c, e)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, res)
}

// RotateWebhookSecret is POST /api/v1/webhooks/endpoints/{id}/rotate-secret:
// a new secret, returned this once; the old one keeps signing beside it
// (two signatures in webhook-signature) until previous_secret_expires_at,
// WEBHOOK_SECRET_OVERLAP from now.
func (h *Handlers) RotateWebhookSecret(c echo.Context) error {
	cur, err := h.WebhookEndpointParam(c)
	if err != nil {
		return err
	}
	e, secret, err := h.RotateEndpointSecret(c, cur.ID)
	if err != nil {
		return err
	}
	out := toWebhookEndpointJSON(e)
	out.Secret = secret
	return c.JSON(http.StatusOK, out)
}
