package handlers

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/shortlinks/shortlinks/db"
	"github.com/shortlinks/shortlinks/handlers/webhooks"
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

// webhookEndpointRequest is the body of POST (every field) and PATCH (the
// fields given) on /api/v1/webhooks/endpoints.
type webhookEndpointRequest struct {
	URL        *string   `json:"url"`
	EventTypes *[]string `json:"event_types"`
	Disabled   *bool     `json:"disabled"`
}

// maxWebhookURLLength bounds an endpoint URL.
const maxWebhookURLLength = 2048

// endpointState is an endpoint's health in one word, the same on the page
// and in the API.
func endpointState(e db.WebhookEndpoint) string {
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

func toWebhookEndpointJSON(e db.WebhookEndpoint) webhookEndpointJSON {
	j := webhookEndpointJSON{ID: e.ID, URL: e.URL, EventTypes: []string(e.EventTypes), Disabled: !e.Enabled,
		Source: e.Source, State: endpointState(e), CreatedAt: e.CreatedAt, Pending: e.Pending, Failed: e.Failed,
		ConsecutiveFailures: e.ConsecutiveFailures, FailingSince: e.FailingSince, LastSuccessAt: e.LastSuccessAt,
		LastError: e.LastError, RotatingUntil: e.RotatingUntil}
	if j.EventTypes == nil {
		j.EventTypes = []string{}
	}
	if e.Source == db.WebhookSourceConfig {
		j.URL = redactURL(e.URL) // configured by the operator, perhaps with a password in it
	}
	return j
}

// validate checks the fields given; create says every required one must be.
func (r webhookEndpointRequest) validate(create, allowPrivate bool) error {
	if r.URL == nil && create {
		return invalid("url", "url is required")
	}
	if r.URL != nil {
		if len(*r.URL) > maxWebhookURLLength || !isPlainText(*r.URL) {
			return invalid("url", "url must be a plain http:// or https:// URL of at most %d bytes", maxWebhookURLLength)
		}
		if err := webhooks.CheckEndpointURL(strings.TrimSpace(*r.URL), allowPrivate); err != nil {
			return invalid("url", "%s", err.Error())
		}
	}
	if r.EventTypes != nil {
		seen := map[string]bool{}
		for _, t := range *r.EventTypes {
			if !slices.Contains(db.WebhookEventTypes, t) || seen[t] {
				e := invalid("event_types", "event_types must list distinct event types among %s (empty: every event); %q is not one", strings.Join(db.WebhookEventTypes, ", "), t)
				e.Allowed = db.WebhookEventTypes
				return e
			}
			seen[t] = true
		}
	}
	return nil
}

// webhookEndpointParam reads the endpoint {id} names; 404 for anything
// that is not one.
func (h *Handlers) webhookEndpointParam(c echo.Context) (db.WebhookEndpoint, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return db.WebhookEndpoint{}, notFound("webhook endpoint")
	}
	e, err := h.store.WebhookEndpoint(c.Request().Context(), id)
	if err != nil {
		return db.WebhookEndpoint{}, webhookEndpointError(err)
	}
	return e, nil
}

// webhookEndpointError says what a refused change means for an endpoint.
func webhookEndpointError(err error) error {
	switch {
	case errors.Is(err, db.ErrNotFound):
		return notFound("webhook endpoint")
	case errors.Is(err, db.ErrManagedByConfig):
		return &APIError{Status: http.StatusConflict, Code: "managed_by_config",
			Message: "this endpoint is configured by WEBHOOK_URLS and WEBHOOK_SECRET; change it there"}
	case errors.Is(err, db.ErrConflict):
		return &APIError{Status: http.StatusConflict, Code: "conflict", Field: "url",
			Message: "another webhook endpoint already has this url"}
	}
	return err
}

// webhookEndpointsDefaultLimit is a page of GET /api/v1/webhooks/endpoints.
const webhookEndpointsDefaultLimit = 50

// ListWebhookEndpoints is GET /api/v1/webhooks/endpoints?limit=&cursor=:
// every endpoint, the configured ones included, oldest first.
func (h *Handlers) ListWebhookEndpoints(c echo.Context) error {
	limit, err := limitParam(c, webhookEndpointsDefaultLimit)
	if err != nil {
		return err
	}
	cur, err := cursorParam(c, "endpoint")
	if err != nil {
		return err
	}
	page, next, err := h.store.WebhookEndpointsPage(c.Request().Context(), limit, cur)
	if errors.Is(err, db.ErrInvalidInput) {
		return invalid("cursor", "cursor must be a next_cursor of this listing")
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
	var req webhookEndpointRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	e, secret, err := h.createWebhookEndpoint(c, req)
	if err != nil {
		return err
	}
	out := toWebhookEndpointJSON(e)
	out.Secret = secret
	c.Response().Header().Set(echo.HeaderLocation, "/api/v1/webhooks/endpoints/"+strconv.FormatInt(e.ID, 10))
	return c.JSON(http.StatusCreated, out)
}

// createWebhookEndpoint validates and adds an endpoint, for the API and the
// console alike.
func (h *Handlers) createWebhookEndpoint(c echo.Context, req webhookEndpointRequest) (db.WebhookEndpoint, string, error) {
	if err := req.validate(true, h.cfg.Webhooks.AllowPrivate); err != nil {
		return db.WebhookEndpoint{}, "", err
	}
	ne := db.NewWebhookEndpoint{URL: strings.TrimSpace(*req.URL), Secret: webhooks.NewSecret()}
	if req.EventTypes != nil {
		ne.EventTypes = *req.EventTypes
	}
	if req.Disabled != nil {
		ne.Disabled = *req.Disabled
	}
	e, err := h.store.CreateWebhookEndpoint(c.Request().Context(), ne)
	if err != nil {
		return db.WebhookEndpoint{}, "", webhookEndpointError(err)
	}
	h.log.InfoContext(c.Request().Context(), "webhook endpoint added", "endpoint", e.ID, "url", redactURL(e.URL), "event_types", ne.EventTypes)
	return e, ne.Secret, nil
}

// GetWebhookEndpoint is GET /api/v1/webhooks/endpoints/{id}.
func (h *Handlers) GetWebhookEndpoint(c echo.Context) error {
	e, err := h.webhookEndpointParam(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toWebhookEndpointJSON(e))
}

// UpdateWebhookEndpoint is PATCH /api/v1/webhooks/endpoints/{id}: the
// fields given change (url, event_types, disabled); a configured endpoint
// is read-only (409).
func (h *Handlers) UpdateWebhookEndpoint(c echo.Context) error {
	cur, err := h.webhookEndpointParam(c)
	if err != nil {
		return err
	}
	var req webhookEndpointRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	e, err := h.updateWebhookEndpoint(c, cur.ID, req)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toWebhookEndpointJSON(e))
}

func (h *Handlers) updateWebhookEndpoint(c echo.Context, id int64, req webhookEndpointRequest) (db.WebhookEndpoint, error) {
	if err := req.validate(false, h.cfg.Webhooks.AllowPrivate); err != nil {
		return db.WebhookEndpoint{}, err
	}
	if req.URL != nil {
		u := strings.TrimSpace(*req.URL)
		req.URL = &u
	}
	e, err := h.store.UpdateWebhookEndpoint(c.Request().Context(), id, db.WebhookEndpointPatch{URL: req.URL, EventTypes: req.EventTypes, Disabled: req.Disabled})
	if err != nil {
		return db.WebhookEndpoint{}, webhookEndpointError(err)
	}
	h.log.InfoContext(c.Request().Context(), "webhook endpoint changed", "endpoint", e.ID, "url", redactURL(e.URL), "event_types", []string(e.EventTypes), "disabled", !e.Enabled)
	return e, nil
}

// DeleteWebhookEndpoint is DELETE /api/v1/webhooks/endpoints/{id}: the
// endpoint and its delivery log go; events not yet sent to it are dropped.
func (h *Handlers) DeleteWebhookEndpoint(c echo.Context) error {
	cur, err := h.webhookEndpointParam(c)
	if err != nil {
		return err
	}
	if err := h.store.DeleteWebhookEndpoint(c.Request().Context(), cur.ID); err != nil {
		return webhookEndpointError(err)
	}
	h.log.InfoContext(c.Request().Context(), "webhook endpoint deleted", "endpoint", cur.ID, "url", redactURL(cur.URL))
	return c.NoContent(http.StatusNoContent)
}

// TestWebhookEndpoint is POST /api/v1/webhooks/endpoints/{id}/test: a
// signed webhook.test event is sent now, whatever the endpoint's filter,
// and the receiver's answer returned (200 whether or not it accepted).
func (h *Handlers) TestWebhookEndpoint(c echo.Context) error {
	e, err := h.webhookEndpointParam(c)
	if err != nil {
		return err
	}
	res, err := h.sendTestEvent(c, e)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, res)
}

func (h *Handlers) sendTestEvent(c echo.Context, e db.WebhookEndpoint) (webhooks.TestResult, error) {
	ctx := c.Request().Context()
	secrets, err := h.store.WebhookEndpointSecrets(ctx, e.ID)
	if err != nil {
		return webhooks.TestResult{}, webhookEndpointError(err)
	}
	res := h.webhookTester.Send(ctx, e, secrets)
	h.log.InfoContext(ctx, "webhook test event sent", "endpoint", e.ID, "status", res.Status, "delivered", res.Delivered, "err", res.Error)
	return res, nil
}

// RotateWebhookSecret is POST /api/v1/webhooks/endpoints/{id}/rotate-secret:
// a new secret, returned this once; the old one keeps signing beside it
// (two signatures in webhook-signature) until previous_secret_expires_at,
// WEBHOOK_SECRET_OVERLAP from now.
func (h *Handlers) RotateWebhookSecret(c echo.Context) error {
	cur, err := h.webhookEndpointParam(c)
	if err != nil {
		return err
	}
	e, secret, err := h.rotateWebhookSecret(c, cur.ID)
	if err != nil {
		return err
	}
	out := toWebhookEndpointJSON(e)
	out.Secret = secret
	return c.JSON(http.StatusOK, out)
}

func (h *Handlers) rotateWebhookSecret(c echo.Context, id int64) (db.WebhookEndpoint, string, error) {
	secret := webhooks.NewSecret()
	e, err := h.store.RotateWebhookSecret(c.Request().Context(), id, secret, h.cfg.Webhooks.RotationOverlap)
	if err != nil {
		return db.WebhookEndpoint{}, "", webhookEndpointError(err)
	}
	h.log.InfoContext(c.Request().Context(), "webhook secret rotated", "endpoint", e.ID, "previous_valid_until", e.RotatingUntil)
	return e, secret, nil
}
