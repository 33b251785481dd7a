package handlers

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/shortlinks/shortlinks/db"
	"github.com/shortlinks/shortlinks/handlers/access"
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
	id := identityOf(c)
	sessions, err := h.store.ListSessions(ctx, id.user)
	if err != nil {
		return err
	}
	for _, s := range sessions {
		client := s.ClientAddr
		if s.UserAgent != "" {
			client += " · " + truncate(s.UserAgent, 80)
		}
		p.Sessions = append(p.Sessions, views.SessionRow{ID: s.ID, Created: timeOrDash(&s.CreatedAt),
			LastSeen: timeOrDash(&s.LastSeenAt), Client: client, Current: id.sess != nil && s.ID == id.sess.id})
	}
	owner := id.user
	if id.can(access.KeysManage) {
		owner, p.AllKeys = 0, true
	}
	keys, err := h.store.ListAPIKeys(ctx, owner)
	if err != nil {
		return err
	}
	for _, k := range keys {
		row := views.KeyRow{ID: k.ID, Name: k.Name, Hint: k.Hint, Role: k.Role, Owner: k.CreatedBy,
			Expires: timeOrDash(k.ExpiresAt), LastUsed: timeOrDash(k.LastUsedAt), Created: timeOrDash(&k.CreatedAt)}
		if k.Owner != nil {
			row.Owner = *k.Owner
		}
		if k.ExpiresAt == nil {
			row.Expires = "never"
		}
		p.Keys = append(p.Keys, row)
	}
	for _, r := range access.Roles {
		if access.AtMost(r, id.role) {
			p.Roles = append(p.Roles, r)
		}
	}
	p.CSRF = csrfToken(c)
	return render(c, status, views.Account(h.chrome(c, "Account", "account"), p))
}

// EndSession is POST /admin/account/sessions/:id/end (one's own only).
func (h *Handlers) EndSession(c echo.Context) error {
	sid, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return notFound("session")
	}
	n, err := h.store.EndSessions(c.Request().Context(), identityOf(c).user, sid, false)
	if err != nil {
		return err
	}
	if n == 0 {
		return notFound("session")
	}
	return c.Redirect(http.StatusSeeOther, "/admin/account?done=ended")
}

// EndOtherSessions is POST /admin/account/sessions/end-others.
func (h *Handlers) EndOtherSessions(c echo.Context) error {
	id := identityOf(c)
	if _, err := h.store.EndSessions(c.Request().Context(), id.user, id.sess.id, true); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/admin/account?done=ended-others")
}

// CreateKey is POST /admin/account/keys: a key of the user's own, with a
// role no higher than theirs, shown once.
func (h *Handlers) CreateKey(c echo.Context) error {
	id := identityOf(c)
	name, role, expires := c.FormValue("name"), c.FormValue("role"), c.FormValue("expires")
	p := views.AccountPage{Name: name, Role: role, Expires: expires}
	nk, err := access.ParseNewKey(name, role, expires, time.Now())
	var fe *access.FieldError
	switch {
	case errors.As(err, &fe):
		p.Error = "Key " + fe.Field + ": " + fe.Message + "."
	case !access.AtMost(role, id.role):
		p.Error = "A key's role cannot be above yours (" + id.role + ")."
	}
	if p.Error != "" {
		return h.renderAccount(c, http.StatusBadRequest, p)
	}
	key := access.NewSecret(access.KeyPrefix)
	owner := id.user
	k, err := h.store.CreateAPIKey(c.Request().Context(), db.NewAPIKey{Name: nk.Name, Role: nk.Role, UserID: &owner,
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
		return notFound("key")
	}
	id := identityOf(c)
	owner := id.user
	if id.can(access.KeysManage) {
		owner = 0
	}
	if _, err := h.store.RevokeAPIKey(c.Request().Context(), kid, owner); errors.Is(err, db.ErrNotFound) {
		return notFound("key")
	} else if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/admin/account?done=revoked")
}
