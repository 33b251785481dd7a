package admin

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/shortlinks/shortlinks/db"
	"github.com/shortlinks/shortlinks/handlers/web"
	"github.com/shortlinks/shortlinks/views"
)

// endpointForm is the add or edit form filled from checked event types.
func endpointForm(checked []string) views.EndpointForm {
	f := views.EndpointForm{Errors: map[string]string{}}
	for _, t := range db.WebhookEventTypes {
		f.EventTypes = append(f.EventTypes, views.EventChoice{Type: t, Checked: slices.Contains(checked, t)})
	}
	return f
}

// endpointFormRequest reads the form as the API's request: the same
// validation and store calls serve both.
func endpointFormRequest(c echo.Context, withDisabled bool) (web.WebhookEndpointRequest, views.EndpointForm, error) {
	if err := c.Request().ParseForm(); err != nil {
		return web.WebhookEndpointRequest{}, views.EndpointForm{}, web.Invalid("", "the form could not be read")
	}
	u := c.Request().PostForm.Get("url")
	types := c.Request().PostForm["event_types"]
	if types == nil {
		types = []string{}
	}
	req := web.WebhookEndpointRequest{URL: &u, EventTypes: &types}
	form := endpointForm(types)
	form.URL = u
	if withDisabled {
		disabled := c.Request().PostForm.Get("disabled") == "true"
		req.Disabled, form.Disabled = &disabled, disabled
	}
	return req, form, nil
}

// refusedField turns a refused request into the message next to its field,
// or returns the error when it is not about one.
func refusedField(err error, form *views.EndpointForm) error {
	var apiErr *web.APIError
	if errors.As(err, &apiErr) && (apiErr.Field == "url" || apiErr.Field == "event_types") {
		form.Errors[apiErr.Field] = web.Capitalize(apiErr.Message) + "."
		return nil
	}
	return err
}

// AddEndpointForm is POST /admin/webhooks/endpoints: the endpoint is added
// and the page shows its secret, once; a refused one is shown again with
// the reason next to its field (400).
func (h *Handlers) AddEndpointForm(c echo.Context) error {
	req, form, err := endpointFormRequest(c, false)
	if err != nil {
		return err
	}
	e, secret, err := h.AddWebhookEndpoint(c, req)
	if err != nil {
		if err := refusedField(err, &form); err != nil {
			return err
		}
		return h.renderWebhooks(c, http.StatusBadRequest, form, nil)
	}
	return h.renderWebhooks(c, http.StatusCreated, endpointForm(nil),
		&views.NewSecret{EndpointID: e.ID, URL: e.URL, Secret: secret})
}

// adminEndpointParam reads the endpoint :id names, 404 otherwise.
func (h *Handlers) adminEndpointParam(c echo.Context) (db.WebhookEndpoint, error) {
	e, err := h.WebhookEndpointParam(c)
	var apiErr *web.APIError
	if errors.As(err, &apiErr) && apiErr.Status == http.StatusNotFound {
		return e, web.NotFound("webhook endpoint")
	}
	return e, err
}

// WebhookEndpointPage is GET /admin/webhooks/endpoints/{id}.
func (h *Handlers) WebhookEndpointPage(c echo.Context) error {
	e, err := h.adminEndpointParam(c)
	if err != nil {
		return err
	}
	return h.renderEndpoint(c, http.StatusOK, e, nil, func(p *views.WebhookEndpointPage) {
		if c.QueryParam("saved") != "" {
			p.Flash = &views.Flash{OK: true, Text: "Saved."}
		}
	})
}

// renderEndpoint shows an endpoint's page; form is the settings form as
// typed (nil: as stored), more adds a test result or a new secret.
func (h *Handlers) renderEndpoint(c echo.Context, status int, e db.WebhookEndpoint, form *views.EndpointForm, more func(*views.WebhookEndpointPage)) error {
	p := views.WebhookEndpointPage{Endpoint: endpointRow(e), CSRF: web.CSRFToken(c), Overlap: overlapWords(h.Cfg.Webhooks.RotationOverlap)}
	if e.RotatingUntil != nil {
		p.RotatingUntil = displaySecond(*e.RotatingUntil)
	}
	if form != nil {
		p.Form = *form
	} else {
		p.Form = endpointForm(e.EventTypes)
		p.Form.URL, p.Form.Disabled = e.URL, !e.Enabled
	}
	if more != nil {
		more(&p)
	}
	title := "Webhook endpoint " + strconv.FormatInt(e.ID, 10)
	return web.Render(c, status, views.WebhookEndpoint(h.Chrome(c, title, "webhooks"), p))
}

// overlapWords says how long a rotated-out secret still signs.
func overlapWords(d time.Duration) string {
	if d <= 0 {
		return "no time at all (WEBHOOK_SECRET_OVERLAP is 0)"
	}
	if d%time.Hour == 0 {
		return strconv.Itoa(int(d/time.Hour)) + " h"
	}
	return d.String()
}

// SaveEndpointForm is POST /admin/webhooks/endpoints/{id}: its URL, events
// and disabled switch; refused input is shown again next to its field.
func (h *Handlers) SaveEndpointForm(c echo.Context) error {
	e, err := h.adminEndpointParam(c)
	if err != nil {
		return err
	}
	req, form, err := endpointFormRequest(c, true)
	if err != nil {
		return err
	}
	if _, err := h.ChangeWebhookEndpoint(c, e.ID, req); err != nil {
		if err := refusedField(err, &form); err != nil {
			return err
		}
		return h.renderEndpoint(c, http.StatusBadRequest, e, &form, nil)
	}
	return c.Redirect(http.StatusSeeOther, "/admin/webhooks/endpoints/"+strconv.FormatInt(e.ID, 10)+"?saved=1")
}

// TestEndpointForm is POST /admin/webhooks/endpoints/{id}/test: a signed
// webhook.test is sent now and the page shows the receiver's answer.
func (h *Handlers) TestEndpointForm(c echo.Context) error {
	e, err := h.adminEndpointParam(c)
	if err != nil {
		return err
	}
	res, err := h.SendTestEvent(c, e)
	if err != nil {
		return err
	}
	v := &views.TestResult{WebhookID: res.WebhookID, Delivered: res.Delivered, Error: res.Error, Response: res.Response,
		Took: res.Duration.Round(time.Millisecond).String()}
	if res.Status != 0 {
		v.Status = strconv.Itoa(res.Status)
	}
	return h.renderEndpoint(c, http.StatusOK, e, nil, func(p *views.WebhookEndpointPage) { p.Test = v })
}

// RotateSecretForm is POST /admin/webhooks/endpoints/{id}/rotate-secret:
// the page shows the new secret once.
func (h *Handlers) RotateSecretForm(c echo.Context) error {
	cur, err := h.adminEndpointParam(c)
	if err != nil {
		return err
	}
	e, secret, err := h.RotateEndpointSecret(c, cur.ID)
	if err != nil {
		return err
	}
	return h.renderEndpoint(c, http.StatusOK, e, nil, func(p *views.WebhookEndpointPage) {
		p.Secret = &views.NewSecret{EndpointID: e.ID, URL: e.URL, Secret: secret, Rotated: true, OldUntil: p.RotatingUntil}
	})
}

// DeleteEndpointForm is POST /admin/webhooks/endpoints/{id}/delete.
func (h *Handlers) DeleteEndpointForm(c echo.Context) error {
	e, err := h.adminEndpointParam(c)
	if err != nil {
		return err
	}
	if err := h.RemoveWebhookEndpoint(c, e); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/admin/webhooks?deleted=endpoint")
}
