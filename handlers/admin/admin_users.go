package admin

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/shortlinks/shortlinks/db"
	"github.com/shortlinks/shortlinks/handlers/access"
	"github.com/shortlinks/shortlinks/handlers/web"
	"github.com/shortlinks/shortlinks/views"
)

// UsersPage is GET /admin/users.
func (h *Handlers) UsersPage(c echo.Context) error {
	var flash *views.Flash
	switch c.QueryParam("done") {
	case "role":
		flash = &views.Flash{OK: true, Text: "Role changed. It applies to that user's next request."}
	case "disabled":
		flash = &views.Flash{OK: true, Text: "User disabled: their sessions and API keys stopped working."}
	case "enabled":
		flash = &views.Flash{OK: true, Text: "User enabled."}
	}
	return h.renderUsers(c, http.StatusOK, views.UsersPage{Flash: flash, Role: access.RoleMarketer})
}

func (h *Handlers) renderUsers(c echo.Context, status int, p views.UsersPage) error {
	users, err := h.Store.ListUsers(c.Request().Context())
	if err != nil {
		return err
	}
	me := web.IdentityOf(c).User
	for _, u := range users {
		p.Users = append(p.Users, views.UserRow{ID: u.ID, Email: u.Email, Name: u.DisplayName, Role: u.Role,
			State: u.State(), LastSignIn: timeOrNever(u.LastSignInAt), Self: u.ID == me})
	}
	p.Roles, p.CSRF = access.Roles, web.CSRFToken(c)
	return web.Render(c, status, views.Users(h.Chrome(c, "Users", "users"), p))
}

// InviteUser is POST /admin/users: a new user and their set-password link.
func (h *Handlers) InviteUser(c echo.Context) error {
	email := strings.TrimSpace(c.FormValue("email"))
	name := strings.TrimSpace(c.FormValue("name"))
	role := c.FormValue("role")
	p := views.UsersPage{Email: email, Name: name, Role: role}
	if !access.ValidEmail(email) {
		p.Error = "Enter an email address, such as sam@example.com."
	} else if !access.ValidRole(role) {
		p.Error = "Choose a role: admin, marketer or viewer."
	} else if len(name) > access.MaxNameLength {
		p.Error = "The name must be at most 100 characters."
	}
	if p.Error != "" {
		return h.renderUsers(c, http.StatusBadRequest, p)
	}
	token := access.NewSecret(access.InvitePrefix)
	u, err := h.Store.InviteUser(c.Request().Context(), email, name, role, db.NewInvite{TokenHash: access.Hash(token), Purpose: db.InvitePurposeInvite})
	if errors.Is(err, db.ErrConflict) {
		p.Error = email + " already has an account."
		return h.renderUsers(c, http.StatusConflict, p)
	}
	if err != nil {
		return err
	}
	return h.renderUsers(c, http.StatusOK, views.UsersPage{Link: h.Cfg.BaseURL + access.SetPasswordPath + token, LinkFor: u.Email,
		Role: access.RoleMarketer, Flash: &views.Flash{OK: true, Text: "Invited " + u.Email + " as " + u.Role + "."}})
}

// userParam is the user the route's :id names; 404 when none.
func (h *Handlers) userParam(c echo.Context) (db.User, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return db.User{}, web.NotFound("user")
	}
	u, err := h.Store.GetUser(c.Request().Context(), id)
	if errors.Is(err, db.ErrNotFound) {
		return db.User{}, web.NotFound("user")
	}
	return u, err
}

// ChangeUserRole is POST /admin/users/:id/role.
func (h *Handlers) ChangeUserRole(c echo.Context) error {
	role := c.FormValue("role")
	if !access.ValidRole(role) {
		return web.Invalid("role", "role must be admin, marketer or viewer")
	}
	return h.changeUser(c, db.UserChange{Role: &role}, "role")
}

// SetUserDisabled is POST /admin/users/:id/disabled (disabled=true|false).
func (h *Handlers) SetUserDisabled(c echo.Context) error {
	disabled, err := strconv.ParseBool(c.FormValue("disabled"))
	if err != nil {
		return web.Invalid("disabled", "disabled must be true or false")
	}
	done := "enabled"
	if disabled {
		done = "disabled"
	}
	return h.changeUser(c, db.UserChange{Disabled: &disabled}, done)
}

func (h *Handlers) changeUser(c echo.Context, change db.UserChange, done string) error {
	u, err := h.userParam(c)
	if err != nil {
		return err
	}
	if u.ID == web.IdentityOf(c).User {
		return &web.APIError{Status: http.StatusConflict, Code: "conflict", Message: "You cannot change your own role or disable yourself; ask another admin."}
	}
	_, err = h.Store.ChangeUser(c.Request().Context(), u.ID, change)
	if errors.Is(err, db.ErrLastAdmin) {
		return &web.APIError{Status: http.StatusConflict, Code: "conflict", Message: "This is the last enabled admin: make someone else an admin first."}
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/admin/users?done="+done)
}

// IssueResetLink is POST /admin/users/:id/reset: a new set-password link,
// shown once; any earlier link stops working.
func (h *Handlers) IssueResetLink(c echo.Context) error {
	u, err := h.userParam(c)
	if err != nil {
		return err
	}
	token := access.NewSecret(access.InvitePrefix)
	if _, err := h.Store.IssueReset(c.Request().Context(), u.ID, access.Hash(token)); err != nil {
		return err
	}
	return h.renderUsers(c, http.StatusOK, views.UsersPage{Link: h.Cfg.BaseURL + access.SetPasswordPath + token, LinkFor: u.Email,
		Role: access.RoleMarketer})
}

// SetPasswordPage is GET /admin/set-password/:token, where an invite or a
// reset link leads.
func (h *Handlers) SetPasswordPage(c echo.Context) error {
	inv, err := h.Store.InviteByToken(c.Request().Context(), access.Hash(c.Param("token")))
	if errors.Is(err, db.ErrNotFound) {
		return errLinkUsed
	}
	if err != nil {
		return err
	}
	return h.renderSetPassword(c, http.StatusOK, inv, "")
}

// errLinkUsed is what an unknown, used or expired link answers.
var errLinkUsed = &web.APIError{Status: http.StatusNotFound, Code: "not_found",
	Message: "This link was already used, has expired (links work for 72 hours) or was replaced by a newer one. Ask an admin for a new link."}

func (h *Handlers) renderSetPassword(c echo.Context, status int, inv db.Invite, msg string) error {
	// The token is in the path: no Referer may carry it elsewhere.
	c.Response().Header().Set("Referrer-Policy", "no-referrer")
	f := views.SetPasswordForm{Email: inv.Email, Reset: inv.Purpose == db.InvitePurposeReset, Error: msg,
		CSRF: web.CSRFToken(c), Token: c.Param("token")}
	return web.Render(c, status, views.SetPassword(h.Chrome(c, "Set your password", ""), f))
}

// SetPassword is POST /admin/set-password/:token: checks the password
// against the policy and spends the link, once.
func (h *Handlers) SetPassword(c echo.Context) error {
	ctx := c.Request().Context()
	hash := access.Hash(c.Param("token"))
	inv, err := h.Store.InviteByToken(ctx, hash)
	if errors.Is(err, db.ErrNotFound) {
		return errLinkUsed
	}
	if err != nil {
		return err
	}
	password := c.Request().PostFormValue("password")
	if err := access.CheckPassword(password); err != nil {
		return h.renderSetPassword(c, http.StatusBadRequest, inv, "Password: "+err.Error()+".")
	}
	pwHash, err := h.Sessions.Hash(password)
	if err != nil {
		return err
	}
	ctx = db.WithActor(ctx, db.Actor{Kind: db.ActorAnonymous, Name: inv.Email, Client: c.RealIP()})
	if _, err := h.Store.UseInvite(ctx, hash, pwHash); errors.Is(err, db.ErrNotFound) {
		return errLinkUsed // spent by a concurrent request
	} else if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/admin/login?set=1")
}

func timeOrNever(t *time.Time) string {
	if t == nil {
		return "never"
	}
	return t.UTC().Format("2006-01-02 15:04")
}
