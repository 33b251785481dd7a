package admin

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/shortlinks/shortlinks/db"
	"github.com/shortlinks/shortlinks/handlers/web"
	"github.com/shortlinks/shortlinks/views"
)

// NewBusinessPage is GET /admin/businesses/new.
func (h *Handlers) NewBusinessPage(c echo.Context) error {
	return h.renderBusinessForm(c, http.StatusOK, newBusinessForm(), nil)
}

func newBusinessForm() views.BusinessForm {
	return views.BusinessForm{Heading: "Add a business", Action: "/admin/businesses", Submit: "Add business", Cancel: "/admin/campaigns"}
}

// AddBusinessForm is POST /admin/businesses: the same checks and messages
// as POST /api/v1/businesses; then the new business's preview page.
func (h *Handlers) AddBusinessForm(c echo.Context) error {
	form, req := businessFromForm(c, newBusinessForm())
	nb, err := h.NewBusiness(req)
	if err != nil {
		return h.renderBusinessForm(c, http.StatusBadRequest, form, err)
	}
	b, err := h.Store.CreateBusiness(c.Request().Context(), nb)
	if err != nil {
		return err
	}
	h.Log.Info("business added in the admin console", "business_id", b.ID, "ip", c.RealIP())
	return c.Redirect(http.StatusSeeOther, campaignPageHref(b.ID, ""))
}

// EditBusinessPage is GET /admin/businesses/{id}/edit.
func (h *Handlers) EditBusinessPage(c echo.Context) error {
	b, err := h.BusinessParam(c)
	if err != nil {
		return err
	}
	f := editBusinessForm(b.ID, b.Name)
	f.Name, f.City, f.Phone, f.SiteURL = b.Name, b.City, b.Phone, web.Deref(b.SiteURL)
	return h.renderBusinessForm(c, http.StatusOK, f, nil)
}

func editBusinessForm(id, name string) views.BusinessForm {
	return views.BusinessForm{Heading: "Edit " + name, Action: "/admin/businesses/" + id, Submit: "Save changes",
		Cancel: campaignPageHref(id, "")}
}

// EditBusinessForm is POST /admin/businesses/{id}, with the API's checks.
func (h *Handlers) EditBusinessForm(c echo.Context) error {
	old, err := h.BusinessParam(c)
	if err != nil {
		return err
	}
	id, ctx := old.ID, c.Request().Context()
	form, req := businessFromForm(c, editBusinessForm(id, old.Name))
	nb, err := h.NewBusiness(req)
	if err != nil {
		return h.renderBusinessForm(c, http.StatusBadRequest, form, err)
	}
	if _, err := h.Store.UpdateBusiness(ctx, id, nb); err != nil {
		if errors.Is(err, db.ErrNotFound) {
			return web.NotFound("business")
		}
		return err
	}
	h.Log.Info("business edited in the admin console", "business_id", id, "ip", c.RealIP())
	return c.Redirect(http.StatusSeeOther, campaignPageHref(id, ""))
}

// businessFromForm reads the posted fields into the form (to show them
// again) and into the API's request shape (to check them the same way).
func businessFromForm(c echo.Context, f views.BusinessForm) (views.BusinessForm, web.CreateBusinessRequest) {
	f.Name, f.City, f.Phone, f.SiteURL = c.FormValue("name"), c.FormValue("city"), c.FormValue("phone"), c.FormValue("site_url")
	return f, web.CreateBusinessRequest{Name: &f.Name, City: &f.City, Phone: &f.Phone, SiteURL: &f.SiteURL}
}

// renderBusinessForm shows the form; a validation error is shown at its
// field with the API's message. Any other error is the usual error page.
func (h *Handlers) renderBusinessForm(c echo.Context, status int, f views.BusinessForm, err error) error {
	if err != nil {
		var apiErr *web.APIError
		if !errors.As(err, &apiErr) || apiErr.Field == "" {
			return err
		}
		f.Field, f.Error = apiErr.Field, web.Capitalize(apiErr.Message)+"."
	}
	f.CSRF = web.CSRFToken(c)
	return web.Render(c, status, views.BusinessFormPage(h.Chrome(c, f.Heading, "campaigns"), f))
}
