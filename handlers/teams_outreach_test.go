package handlers_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/shortlinks/shortlinks/db"
	"github.com/shortlinks/shortlinks/handlers/access"
)

// The routes main added beside accounts (opt-out, void, import, webhook
// endpoints) follow the roles: marketers run outreach, only admins change
// webhook endpoints, viewers change nothing; each change is audited by the
// key that made it, and sends say who recorded them.
func TestOutreachAndWebhookRoutesFollowTheRoles(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	keys := map[string]string{}
	for _, r := range access.Roles {
		keys[r] = app.newKey(t, r+"-key", r)
	}
	b := app.addBusiness(t, "Role Bakery", "Austin", "https://role-bakery.example.com/")
	req := app.withKey("POST", "/api/v1/campaigns/sends", keys["marketer"], previewBody(b.ID, "friendly"))
	req.Header.Set("Idempotency-Key", "roles-send-1")
	status, send := doJSON(t, req)
	if status != http.StatusCreated || send["sent_by"] != "key:marketer-key" {
		t.Fatalf("a marketer's send: %d %v, want 201 sent_by key:marketer-key", status, send)
	}
	sendID, _ := send["id"].(string)
	endpoint := map[string]any{"url": "https://hooks.example.com/roles"}
	for _, c := range []struct {
		role, method, path string
		body               any
		want               int
		perm               string
	}{
		{"viewer", "POST", "/api/v1/businesses/" + b.ID + "/opt-out", nil, 403, "businesses.edit"},
		{"viewer", "POST", "/api/v1/campaigns/sends/" + sendID + "/void", map[string]any{"reason": "x"}, 403, "sends.void"},
		{"viewer", "POST", "/api/v1/businesses/import", nil, 403, "businesses.edit"},
		{"marketer", "POST", "/api/v1/webhooks/endpoints", endpoint, 403, "webhooks.manage"},
		{"marketer", "DELETE", "/api/v1/webhooks/endpoints/1", nil, 403, "webhooks.manage"},
		{"viewer", "GET", "/api/v1/webhooks/endpoints", nil, 200, ""},
		{"marketer", "POST", "/api/v1/businesses/" + b.ID + "/opt-out", nil, 200, ""},
		{"marketer", "DELETE", "/api/v1/businesses/" + b.ID + "/opt-out", nil, 200, ""},
		{"marketer", "POST", "/api/v1/campaigns/sends/" + sendID + "/void", map[string]any{"reason": "never texted"}, 200, ""},
		{"admin", "POST", "/api/v1/webhooks/endpoints", endpoint, 201, ""},
	} {
		status, body := doJSON(t, app.withKey(c.method, c.path, keys[c.role], c.body))
		if status != c.want || errorOf(body, "permission") != c.perm {
			t.Errorf("%s %s %s: %d %v, want %d naming %q", c.role, c.method, c.path, status, body, c.want, c.perm)
		}
	}
	if n := app.countRows(t, "webhook_endpoints"); n != 1 {
		t.Errorf("%d webhook endpoints, want the admin's one", n)
	}
	ctx := context.Background()
	for action, actor := range map[string]string{
		db.AuditBusinessOptedOut: "key:marketer-key", db.AuditBusinessOptedIn: "key:marketer-key",
		db.AuditSendRecorded: "key:marketer-key", db.AuditSendVoided: "key:marketer-key",
		db.AuditWebhookCreated: "key:admin-key",
	} {
		page, err := app.Store.ListAudit(ctx, db.AuditFilter{Action: action})
		if err != nil || len(page.Entries) != 1 || page.Entries[0].Actor != actor {
			t.Errorf("%s audit rows: %+v %v, want one by %s", action, page.Entries, err, actor)
			continue
		}
		if e := page.Entries[0]; strings.Contains(string(e.After), "whsec_") {
			t.Errorf("%s audit row holds a secret: %s", action, e.After)
		}
	}
	var voided map[string]any
	if _, got := app.api(t, "GET", "/api/v1/campaigns/sends?business_id="+b.ID, nil); got != nil {
		sends, _ := got["sends"].([]any)
		if len(sends) == 1 {
			voided, _ = sends[0].(map[string]any)
		}
	}
	if raw, _ := json.Marshal(voided); voided["voided_at"] == nil {
		t.Errorf("the send after the marketer's void: %s", raw)
	}
}

// A viewer's campaign page shows the sends and the opt-out state without
// the forms that change them; a marketer sees no way to add a webhook
// endpoint, and posting one is refused.
func TestConsoleHidesOutreachAndWebhookActions(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	admin := app.signedIn(t)
	b := app.addBusiness(t, "Quiet Cafe", "Reno", "https://quiet.example.com/")
	if status, out := app.mustPost(t, "/api/v1/campaigns/sends", "hide-1", previewBody(b.ID, "friendly")); status != http.StatusCreated {
		t.Fatalf("send: %d %v", status, out)
	}
	users := map[string]*browser{}
	for _, role := range []string{"viewer", "marketer"} {
		email := role + "@example.com"
		link := admin.invite(t, email, role)
		u := app.browser(t)
		u.setPassword(t, link, "orchid-lantern-"+role+"-58")
		if resp, _ := u.login(email, "orchid-lantern-"+role+"-58"); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("%s sign-in: %d", role, resp.StatusCode)
		}
		users[role] = u
	}
	campaignPage := "/admin/campaigns/" + b.ID
	for _, c := range []struct {
		who   string
		b     *browser
		path  string
		sel   string
		shown bool
	}{
		{"admin", admin, campaignPage, "form.void-form", true},
		{"viewer", users["viewer"], campaignPage, "form.void-form", false},
		{"viewer", users["viewer"], campaignPage, "form#opt-out", false},
		{"marketer", users["marketer"], campaignPage, "form#opt-out", true},
		{"admin", admin, "/admin/webhooks", "form#add-endpoint", true},
		{"marketer", users["marketer"], "/admin/webhooks", "form#add-endpoint", false},
	} {
		resp, page := c.b.get(c.path)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s on %s: %d", c.who, c.path, resp.StatusCode)
			continue
		}
		if got := page.Find(c.sel).Length() > 0; got != c.shown {
			t.Errorf("%s on %s: %s shown=%t, want %t", c.who, c.path, c.sel, got, c.shown)
		}
	}
	m := users["marketer"]
	status, ep := app.api(t, "POST", "/api/v1/webhooks/endpoints", map[string]any{"url": "https://hooks.example.com/seen"})
	if status != http.StatusCreated {
		t.Fatalf("add an endpoint: %d %v", status, ep)
	}
	id, _ := ep["id"].(float64)
	resp, page := m.get("/admin/webhooks/endpoints/" + strconv.Itoa(int(id)))
	if resp.StatusCode != http.StatusOK || page.Find("form").FilterFunction(func(_ int, f *goquery.Selection) bool {
		return strings.Contains(f.AttrOr("action", ""), "/admin/webhooks/endpoints/")
	}).Length() != 0 || page.Find("#read-only").Length() != 1 {
		t.Errorf("a marketer on an endpoint's page: %d, want it read-only (no test, edit, rotate or delete form)", resp.StatusCode)
	}
	resp, page = m.post("/admin/webhooks/endpoints", url.Values{"url": {"https://hooks.example.com/m"}, "csrf_token": {m.token}})
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(page.Text(), "webhooks.manage") {
		t.Errorf("a marketer adding a webhook endpoint: %d, want 403 naming webhooks.manage", resp.StatusCode)
	}
}
