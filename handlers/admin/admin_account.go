package admin

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/shortlinks/shortlinks/db"
	"github.com/shortlinks/shortlinks/handlers/access"
	"github.com/shortlinks/shortlinks/handlers/web"
	"github.com/shortlinks/shortlinks/views"
)

// AccountPage is GET /admin/account: the user's sessions and API keys.
func (h *Handlers) AccountPage(c echo.Context) error {
	var flash *views.Flash
	switch c.QueryParam("done") {
	case "ended":
		flash = &views.Flash{OK: true, Text: "Session ended."}
	case "ended-others":
		flash = &views.Flash{OK: true, Text: "Every other session ended."}
	case "revoked":
		flash = &views.Flash{OK: true, Text: "Key revoked: it stopped working everywhere."}
	}
	return h.renderAccount(c, http.StatusOK, views.AccountPage{Flash: flash, Role: access.RoleViewer})
}

func (h *Handlers) renderAccount(c echo.Context, status int, p views.AccountPage) error {
	ctx := c.Request().Context()
	id := web.IdentityOf(c)
	sessions, err := h.Store.ListSessions(ctx, id.User)
	if err != nil {
		return err
	}
	for _, s := range sessions {
		client := s.ClientAddr
		if s.UserAgent != "" {
			client += " · " + truncate(s.UserAgent, 80)
		}
		p.Sessions = append(p.Sessions, views.SessionRow{ID: s.ID, Created: timeOrNever(&s.CreatedAt),
			LastSeen: timeOrNever(&s.LastSeenAt), Client: client, Current: id.Session != nil && s.ID == id.Session.ID})
	}
	owner := id.User
	if id.Can(access.KeysManage) {
		owner, p.AllKeys = 0, true
	}
	keys, err := h.Store.ListAPIKeys(ctx, owner)
	if err != nil {
		return err
	}
	for _, k := range keys {
		row := views.KeyRow{ID: k.ID, Name: k.Name, Hint: k.Hint, Role: k.Role, Owner: k.CreatedBy,
			Expires: timeOrNever(k.ExpiresAt), LastUsed: timeOrNever(k.LastUsedAt), Created: timeOrNever(&k.CreatedAt)}
		if k.Owner != nil {
			row.Owner = *k.Owner
		}
		p.Keys = append(p.Keys, row)
	}
	for _, r := range access.Roles {
		if access.AtMost(r, id.Role) {
			p.Roles = append(p.Roles, r)
		}
	}
	p.CSRF = web.CSRFToken(c)
	return web.Render(c, status, views.Account(h.Chrome(c, "Account", "account"), p))
}

// EndSession is POST /admin/account/sessions/:id/end (one's own only).
func (h *Handlers) EndSession(c echo.Context) error {
	sid, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return web.NotFound("session")
	}
	n, err := h.Store.EndSessions(c.Request().Context(), web.IdentityOf(c).User, sid, false)
	if err != nil {
		return err
	}
	if n == 0 {
		return web.NotFound("session")
	}
	return c.Redirect(http.StatusSeeOther, "/admin/account?done=ended")
}

// EndOtherSessions is POST /admin/account/sessions/end-others.
func (h *Handlers) EndOtherSessions(c echo.Context) error {
	id := web.IdentityOf(c)
	if _, err := h.Store.EndSessions(c.Request().Context(), id.User, id.Session.ID, true); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/admin/account?done=ended-others")
}

// CreateKey is POST /admin/account/keys: a key of the user's own, with a
// role no higher than theirs, shown once.
func (h *Handlers) CreateKey(c echo.Context) error {
	id := web.IdentityOf(c)
	name, role, expires := c.FormValue("name"), c.FormValue("role"), c.FormValue("expires")
	p := views.AccountPage{Name: name, Role: role, Expires: expires}
	nk, err := access.ParseNewKey(name, role, expires, time.Now())
	var fe *access.FieldError
	switch {
	case errors.As(err, &fe):
		p.Error = "Key " + fe.Field + ": " + fe.Message + "."
	case !access.AtMost(role, id.Role):
		p.Error = "A key's role cannot be above yours (" + id.Role + ")."
	}
	if p.Error != "" {
		return h.renderAccount(c, http.StatusBadRequest, p)
	}
	key := access.NewSecret(access.KeyPrefix)
	owner := id.User
	k, err := h.Store.CreateAPIKey(c.Request().Context(), db.NewAPIKey{Name: nk.Name, Role: nk.Role, UserID: &owner,
		ExpiresAt: nk.ExpiresAt, Hash: access.Hash(key), Hint: access.Hint(key)})
	if errors.Is(err, db.ErrConflict) {
		p.Error = "A key named " + name + " exists; pick another name."
		return h.renderAccount(c, http.StatusConflict, p)
	}
	if err != nil {
		return err
	}
	return h.renderAccount(c, http.StatusOK, views.AccountPage{NewKey: key, NewName: k.Name, Role: access.RoleViewer})
}

// RevokeKey is POST /admin/account/keys/:id/revoke: one's own keys, or
// anyone's for admins.
func (h *Handlers) RevokeKey(c echo.Context) error {
	kid, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return web.NotFound("key")
	}
	id := web.IdentityOf(c)
	owner := id.User
	if id.Can(access.KeysManage) {
		owner = 0
	}
	if _, err := h.Store.RevokeAPIKey(c.Request().Context(), kid, owner); errors.Is(err, db.ErrNotFound) {
		return web.NotFound("key")
	} else if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/admin/account?done=revoked")
}
