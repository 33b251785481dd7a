package admin

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/shortlinks/shortlinks/handlers/campaign"
	"github.com/shortlinks/shortlinks/handlers/web"
	"github.com/shortlinks/shortlinks/views"
)

// The sample business the template counter fills the placeholders with; the
// short link has the length of a real one.
const (
	sampleName = "Rosa's Bakery"
	sampleCity = "Austin"
	sampleSlug = "Ab3dE5"
)

// TemplatesPage is GET /admin/templates.
func (h *Handlers) TemplatesPage(c echo.Context) error {
	var flash *views.Flash
	if v := c.QueryParam("saved"); campaign.Known(v) {
		flash = &views.Flash{OK: true, Text: campaign.DisplayName(v) + " template saved. New previews use it."}
	} else if v := c.QueryParam("reset"); campaign.Known(v) {
		flash = &views.Flash{OK: true, Text: campaign.DisplayName(v) + " template is back to its default."}
	}
	return h.renderTemplates(c, http.StatusOK, "", "", "", flash)
}

// renderTemplates shows the editors; failed is a variant whose refused
// text (body) and reason (why) are shown in place of the stored one.
func (h *Handlers) renderTemplates(c echo.Context, status int, failed, body, why string, flash *views.Flash) error {
	ctx := c.Request().Context()
	edited, err := h.Store.MessageTemplates(ctx)
	if err != nil {
		return err
	}
	p := views.TemplatesPage{CSRF: web.CSRFToken(c), Flash: flash,
		Sample: sampleName + " in " + sampleCity + " with the short link " + h.ShortURL(sampleSlug)}
	for _, v := range campaign.Variants() {
		e := views.TemplateEditor{Variant: v, Label: campaign.DisplayName(v), Body: h.Cfg.SMSTemplates[v]}
		if b, ok := edited[v]; ok {
			e.Body, e.Edited = b, true
		}
		if v == failed {
			e.Body, e.Error = body, why
		}
		e.Count = h.templateCount(v, e.Body)
		p.Editors = append(p.Editors, e)
	}
	return web.Render(c, status, views.Templates(h.Chrome(c, "Message templates", "templates"), p))
}

// templateCount is the counter of a template: the sample message, counted
// by the same code as the preview, or why the template cannot be used.
func (h *Handlers) templateCount(variant, body string) views.TemplateCount {
	if err := campaign.Validate(body); err != nil {
		return views.TemplateCount{Variant: variant, Error: web.Capitalize(err.Error()) + "."}
	}
	msg := campaign.Fill(body, campaign.Fields{Name: sampleName, City: sampleCity, URL: h.ShortURL(sampleSlug)})
	return views.TemplateCount{Variant: variant, Message: msg, MessageCount: messageCount(campaign.Count(msg), h.Cfg.SMSRate)}
}

// CountTemplate is POST /admin/templates/{variant}/count: the live counter
// the editor swaps in while the marketer types. It changes nothing.
func (h *Handlers) CountTemplate(c echo.Context) error {
	v := c.Param("variant")
	if !campaign.Known(v) {
		return campaign.UnknownVariant(v)
	}
	return web.Render(c, http.StatusOK, views.TemplateCounter(h.templateCount(v, normalizeNewlines(c.FormValue("body")))))
}

// SaveTemplate is POST /admin/templates/{variant}: save the template, or
// with action=reset go back to the configured default. A refused template
// is shown again with the reason tied to the field (400).
func (h *Handlers) SaveTemplate(c echo.Context) error {
	v := c.Param("variant")
	if !campaign.Known(v) {
		return campaign.UnknownVariant(v)
	}
	ctx := c.Request().Context()
	if c.FormValue("action") == "reset" {
		if err := h.Store.ResetMessageTemplate(ctx, v); err != nil {
			return err
		}
		return c.Redirect(http.StatusSeeOther, "/admin/templates?reset="+v+"#tmpl-"+v)
	}
	body := normalizeNewlines(c.FormValue("body"))
	if err := campaign.Validate(body); err != nil {
		return h.renderTemplates(c, http.StatusBadRequest, v, body, web.Capitalize(err.Error())+".", nil)
	}
	if err := h.Store.SaveMessageTemplate(ctx, v, body); err != nil {
		return err
	}
	h.Log.Info("message template saved in the admin console", "variant", v, "ip", c.RealIP())
	return c.Redirect(http.StatusSeeOther, "/admin/templates?saved="+v+"#tmpl-"+v)
}

// normalizeNewlines turns the CRLF a browser sends for a textarea's line
// breaks into LF, so a line break counts as one character, as in an SMS.
func normalizeNewlines(s string) string { return strings.ReplaceAll(s, "\r\n", "\n") }
