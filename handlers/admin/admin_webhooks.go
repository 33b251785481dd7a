package admin

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/shortlinks/shortlinks/db"
	"github.com/shortlinks/shortlinks/handlers/web"
	"github.com/shortlinks/shortlinks/views"
)

// webhookLogSize is how many deliveries the page lists.
const webhookLogSize = 100

var deliveryStates = []string{db.DeliveryPending, db.DeliveryDelivered, db.DeliveryFailed}

// WebhooksPage is GET /admin/webhooks: the endpoints and their health, and
// the newest deliveries, filtered by state and endpoint.
func (h *Handlers) WebhooksPage(c echo.Context) error {
	state := c.QueryParam("state")
	if state != "" && !slices.Contains(deliveryStates, state) {
		e := web.Invalid("state", "state must be pending, delivered or failed")
		e.Allowed = deliveryStates
		return e
	}
	var endpoint int64
	if raw := c.QueryParam("endpoint"); raw != "" {
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || n <= 0 {
			return web.Invalid("endpoint", "endpoint must be an endpoint number")
		}
		endpoint = n
	}
	ctx := c.Request().Context()
	eps, err := h.Store.WebhookEndpoints(ctx)
	if err != nil {
		return err
	}
	ds, err := h.Store.WebhookDeliveries(ctx, db.DeliveryFilter{State: state, EndpointID: endpoint, Limit: webhookLogSize})
	if err != nil {
		return err
	}
	p := views.WebhooksPage{
		Configured: h.webhooksOn, State: state, Endpoint: endpoint, CSRF: web.CSRFToken(c),
		Return: c.Request().URL.RequestURI(), Flash: webhookFlash(c), Limit: webhookLogSize,
	}
	for _, e := range eps {
		p.Endpoints = append(p.Endpoints, endpointRow(e))
	}
	for _, d := range ds {
		p.Deliveries = append(p.Deliveries, deliveryRow(d))
	}
	return web.Render(c, http.StatusOK, views.Webhooks(h.Chrome(c, "Webhooks", "webhooks"), p))
}

func endpointRow(e db.WebhookEndpoint) views.EndpointRow {
	r := views.EndpointRow{ID: e.ID, URL: redactURL(e.URL), Enabled: e.Enabled, Pending: e.Pending, Failed: e.Failed,
		Failures: e.ConsecutiveFailures, LastError: e.LastError}
	switch {
	case !e.Enabled:
		r.State = "removed"
	case e.Suspended():
		r.State = "suspended"
		r.NextProbe = displayTime(*e.ProbeAt)
	case e.ConsecutiveFailures > 0:
		r.State = "failing"
	default:
		r.State = "healthy"
	}
	if e.FailingSince != nil {
		r.FailingSince = displayTime(*e.FailingSince)
	}
	if e.LastSuccessAt != nil {
		r.LastSuccess = displayTime(*e.LastSuccessAt)
	}
	return r
}

func deliveryRow(d db.WebhookDelivery) views.DeliveryRow {
	r := views.DeliveryRow{ID: d.ID, URL: redactURL(d.URL), MsgID: d.MsgID, Type: d.EventType, State: d.State,
		Attempts: d.Attempts, Created: displayTime(d.CreatedAt), LastError: d.LastError}
	if d.LastStatus != nil {
		r.LastStatus = strconv.Itoa(*d.LastStatus)
	}
	if d.State == db.DeliveryPending && d.Attempts > 0 {
		r.NextAttempt = displayTime(d.NextAttemptAt)
	}
	if d.DeliveredAt != nil {
		r.Delivered = displayTime(*d.DeliveredAt)
	}
	return r
}

// redactURL hides a password in an endpoint URL.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	return u.Redacted()
}

// RetryDeliveryForm is POST /admin/webhooks/deliveries/{id}/retry: the
// delivery is due now, and its endpoint leaves suspension.
func (h *Handlers) RetryDeliveryForm(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return web.NotFound("delivery")
	}
	err = h.Store.RetryWebhookDelivery(c.Request().Context(), id)
	if errors.Is(err, db.ErrNotFound) {
		return web.NotFound("delivery")
	}
	if err != nil {
		return err
	}
	h.Log.Info("webhook delivery retried from the admin console", "delivery", id, "ip", c.RealIP())
	return c.Redirect(http.StatusSeeOther, withQuery(webhooksReturn(c), "retried", "delivery"))
}

// RetryEndpointForm is POST /admin/webhooks/endpoints/{id}/retry: every
// given-up delivery of the endpoint is due now.
func (h *Handlers) RetryEndpointForm(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return web.NotFound("endpoint")
	}
	n, err := h.Store.RetryWebhookEndpoint(c.Request().Context(), id)
	if errors.Is(err, db.ErrNotFound) {
		return web.NotFound("endpoint")
	}
	if err != nil {
		return err
	}
	h.Log.Info("webhook endpoint retried from the admin console", "endpoint", id, "requeued", n, "ip", c.RealIP())
	ret := withQuery(webhooksReturn(c), "retried", "endpoint")
	return c.Redirect(http.StatusSeeOther, withQuery(ret, "count", strconv.FormatInt(n, 10)))
}

// webhooksReturn is where a retry form sends the browser back: the page it
// came from, kept to /admin/webhooks.
func webhooksReturn(c echo.Context) string {
	u, err := url.Parse(c.FormValue("return"))
	if err != nil || u.Path != "/admin/webhooks" || u.Host != "" || u.Scheme != "" {
		return "/admin/webhooks"
	}
	q := u.Query()
	q.Del("retried")
	q.Del("count")
	u.RawQuery = q.Encode()
	return u.String()
}

func withQuery(ret, key, value string) string {
	u, _ := url.Parse(ret) // built by webhooksReturn
	q := u.Query()
	q.Set(key, value)
	u.RawQuery = q.Encode()
	return u.String()
}

// webhookFlash turns the retry parameters into one of a fixed set of
// messages.
func webhookFlash(c echo.Context) *views.Flash {
	switch c.QueryParam("retried") {
	case "delivery":
		return &views.Flash{OK: true, Text: "The delivery is queued to be sent now."}
	case "endpoint":
		n, _ := strconv.Atoi(c.QueryParam("count"))
		return &views.Flash{OK: true, Text: strconv.Itoa(max(n, 0)) + " given-up deliveries are queued to be sent now; the endpoint is no longer suspended."}
	}
	return nil
}
