package api

import (
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/shortlinks/shortlinks/db"
	"github.com/shortlinks/shortlinks/handlers/web"
)

// The outreach API: opting a business out (and back in) and voiding a
// send. Each is one store method in its own transaction.

// OptOut is POST /api/v1/businesses/{id}/opt-out: the business replied
// STOP. Recording a send for it then answers 409. Repeating it keeps the
// first opt-out time.
func (h *Handlers) OptOut(c echo.Context) error { return h.setOptedOut(c, true) }

// OptIn is DELETE /api/v1/businesses/{id}/opt-out: the business opts back
// in, explicitly.
func (h *Handlers) OptIn(c echo.Context) error { return h.setOptedOut(c, false) }

func (h *Handlers) setOptedOut(c echo.Context, out bool) error {
	b, err := h.BusinessParam(c)
	if err != nil {
		return err
	}
	b, err = h.Store.SetOptedOut(c.Request().Context(), b.ID, out)
	if errors.Is(err, db.ErrNotFound) {
		return web.NotFound("business")
	}
	if err != nil {
		return err
	}
	h.Log.Info("opt-out changed through the API", "business_id", b.ID, "opted_out", out)
	return c.JSON(http.StatusOK, toBusinessJSON(b))
}

type voidRequest struct {
	Reason *string `json:"reason"`
}

// VoidSend is POST /api/v1/campaigns/sends/{id}/void {"reason": "…"}: the
// send was recorded by mistake. It stays listed (voided_at, void_reason)
// but no longer counts in the business's status or the results. Voiding a
// voided send changes nothing.
func (h *Handlers) VoidSend(c echo.Context) error {
	id := strings.ToLower(c.Param("id"))
	if !db.IsUUID(id) {
		return web.NotFound("send")
	}
	var body voidRequest
	if err := web.DecodeJSON(c, &body); err != nil {
		return err
	}
	s, err := h.VoidSendWithReason(c, id, web.Deref(body.Reason))
	if err != nil {
		return err
	}
	h.Log.Info("send voided through the API", "send_id", id, "business_id", s.BusinessID)
	return c.JSON(http.StatusOK, toSendJSON(s))
}
