package handlers

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/shortlinks/shortlinks/db"
	"github.com/shortlinks/shortlinks/views"
)

// businessPages registers adding and editing businesses under /admin.
func (h *Handlers) businessPages(admin *echo.Group) {
	get(admin, "/businesses/new", h.NewBusinessPage)
	admin.POST("/businesses", h.AddBusinessForm)
	get(admin, "/businesses/:id/edit", h.EditBusinessPage)
	admin.POST("/businesses/:id", h.EditBusinessForm)
}

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
	nb, err := h.newBusiness(req)
	if err != nil {
		return h.renderBusinessForm(c, http.StatusBadRequest, form, err)
	}
	// The same business twice: ask first, naming the other one.
	if c.FormValue("confirm_duplicate") != "1" {
		clashes, err := h.store.ContactClashes(c.Request().Context(), nb.Phone, nb.SiteURL, "")
		if err != nil {
			return err
		}
		if len(clashes) > 0 {
			for _, cl := range clashes {
				form.Clashes = append(form.Clashes, clashText(cl))
			}
			return h.renderBusinessForm(c, http.StatusOK, form, nil)
		}
	}
	b, err := h.store.CreateBusiness(c.Request().Context(), nb)
	if err != nil {
		return err
	}
	h.log.Info("business added in the admin console", "business_id", b.ID, "ip", c.RealIP())
	return c.Redirect(http.StatusSeeOther, campaignPageHref(b.ID, ""))
}

// EditBusinessPage is GET /admin/businesses/{id}/edit.
func (h *Handlers) EditBusinessPage(c echo.Context) error {
	b, err := h.businessParam(c)
	if err != nil {
		return err
	}
	f := editBusinessForm(b.ID, b.Name)
	f.Name, f.City, f.Phone, f.SiteURL, f.OldSiteURL = b.Name, b.City, b.Phone, deref(b.SiteURL), deref(b.SiteURL)
	return h.renderBusinessForm(c, http.StatusOK, f, nil)
}

func editBusinessForm(id, name string) views.BusinessForm {
	return views.BusinessForm{Heading: "Edit " + name, Action: "/admin/businesses/" + id, Submit: "Save changes",
		Cancel: campaignPageHref(id, "")}
}

// EditBusinessForm is POST /admin/businesses/{id}, with the API's checks.
func (h *Handlers) EditBusinessForm(c echo.Context) error {
	old, err := h.businessParam(c)
	if err != nil {
		return err
	}
	id, ctx := old.ID, c.Request().Context()
	form, req := businessFromForm(c, editBusinessForm(id, old.Name))
	form.OldSiteURL = deref(old.SiteURL)
	nb, err := h.newBusiness(req)
	if err != nil {
		return h.renderBusinessForm(c, http.StatusBadRequest, form, err)
	}
	if _, err := h.store.UpdateBusiness(ctx, id, nb); err != nil {
		if errors.Is(err, db.ErrNotFound) {
			return notFound("business")
		}
		return err
	}
	h.log.Info("business edited in the admin console", "business_id", id, "ip", c.RealIP())
	return c.Redirect(http.StatusSeeOther, campaignPageHref(id, ""))
}

// businessFromForm reads the posted fields into the form (to show them
// again) and into the API's request shape (to check them the same way).
func businessFromForm(c echo.Context, f views.BusinessForm) (views.BusinessForm, createBusinessRequest) {
	f.Name, f.City, f.Phone, f.SiteURL = c.FormValue("name"), c.FormValue("city"), c.FormValue("phone"), c.FormValue("site_url")
	return f, createBusinessRequest{Name: &f.Name, City: &f.City, Phone: &f.Phone, SiteURL: &f.SiteURL}
}

// renderBusinessForm shows the form; a validation error is shown at its
// field with the API's message. Any other error is the usual error page.
func (h *Handlers) renderBusinessForm(c echo.Context, status int, f views.BusinessForm, err error) error {
	if err != nil {
		var apiErr *APIError
		if !errors.As(err, &apiErr) || apiErr.Field == "" {
			return err
		}
		f.Field, f.Error = apiErr.Field, capitalize(apiErr.Message)+"."
	}
	f.CSRF = csrfToken(c)
	return render(c, status, views.BusinessFormPage(h.chrome(c, f.Heading, "campaigns"), f))
}
