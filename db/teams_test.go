package db_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/shortlinks/shortlinks/db"
)

var alice = db.Actor{Kind: db.ActorUser, Name: "alice@example.com", Client: "203.0.113.7"}

// auditRows returns the trail's rows for an action, oldest first.
func auditRows(t *testing.T, s *db.Store, action string) []db.AuditEntry {
	t.Helper()
	page, err := s.ListAudit(context.Background(), db.AuditFilter{Action: action, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	out := page.Entries
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}

func TestInviteIsSingleUseUnderConcurrency(t *testing.T) {
	t.Parallel()
	s := newTestStore(t, db.Options{})
	ctx := db.WithActor(context.Background(), db.CLIActor)
	hash := []byte("0123456789abcdef0123456789abcdef")
	u, err := s.InviteUser(ctx, "bob@example.com", "Bob", "marketer", db.NewInvite{TokenHash: hash, Purpose: db.InvitePurposeInvite})
	if err != nil {
		t.Fatal(err)
	}
	if u.PasswordHash != nil {
		t.Fatal("an invited user has no password yet")
	}
	if _, err := s.InviteUser(ctx, "BOB@example.com", "", "viewer", db.NewInvite{TokenHash: []byte("x"), Purpose: db.InvitePurposeInvite}); !errors.Is(err, db.ErrConflict) {
		t.Fatalf("second invite for the same email in another case: %v, want ErrConflict", err)
	}
	var wg sync.WaitGroup
	results := make([]error, 8)
	for i := range results {
		wg.Go(func() {
			_, results[i] = s.UseInvite(context.Background(), hash, "$2a$10$hash"+string(rune('a'+i)))
		})
	}
	wg.Wait()
	ok := 0
	for _, err := range results {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, db.ErrNotFound):
			t.Errorf("use invite: %v", err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d concurrent uses of one invite succeeded, want 1", ok)
	}
	if _, err := s.InviteByToken(context.Background(), hash); !errors.Is(err, db.ErrNotFound) {
		t.Errorf("a used invite must not be found: %v", err)
	}
	got := auditRows(t, s, db.AuditUserInvited)
	if len(got) != 1 || got[0].Actor != "cli" || got[0].ObjectID != "bob@example.com" {
		t.Errorf("invite audit rows: %+v", got)
	}
	if got := auditRows(t, s, db.AuditUserPasswordSet); len(got) != 1 || got[0].Actor != "bob@example.com" {
		t.Errorf("password-set audit rows: %+v", got)
	}
}

func TestExpiredInviteAndResetVoidsOlderLink(t *testing.T) {
	t.Parallel()
	s := newTestStore(t, db.Options{})
	ctx := context.Background()
	first, second := []byte("first-token-hash-0000000000000000"), []byte("second-token-hash-000000000000000")
	u, err := s.InviteUser(ctx, "carol@example.com", "", "viewer", db.NewInvite{TokenHash: first, Purpose: db.InvitePurposeInvite})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.IssueReset(ctx, u.ID, second); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UseInvite(ctx, first, "$2a$x"); !errors.Is(err, db.ErrNotFound) {
		t.Errorf("the older link must stop working once a new one is issued: %v", err)
	}
	s.DB().MustExec(`UPDATE invites SET expires_at = now() - interval '1 second' WHERE token_hash = $1`, second)
	if _, err := s.UseInvite(ctx, second, "$2a$x"); !errors.Is(err, db.ErrNotFound) {
		t.Errorf("an expired link must not work: %v", err)
	}
}

func TestLastAdminCannotBeDemotedOrDisabled(t *testing.T) {
	t.Parallel()
	s := newTestStore(t, db.Options{})
	ctx := context.Background()
	if _, err := s.EnsureAdmin(ctx, "admin", hashOf("$2a$h1"), func(string) bool { return false }); err != nil {
		t.Fatal(err)
	}
	admin, err := s.UserByEmail(ctx, "ADMIN")
	if err != nil {
		t.Fatal(err)
	}
	viewer := "viewer"
	if _, err := s.ChangeUser(ctx, admin.ID, db.UserChange{Role: &viewer}); !errors.Is(err, db.ErrLastAdmin) {
		t.Fatalf("demoting the last admin: %v, want ErrLastAdmin", err)
	}
	yes := true
	if _, err := s.ChangeUser(ctx, admin.ID, db.UserChange{Disabled: &yes}); !errors.Is(err, db.ErrLastAdmin) {
		t.Fatalf("disabling the last admin: %v, want ErrLastAdmin", err)
	}
	if got := auditRows(t, s, db.AuditUserRoleChanged); len(got) != 0 {
		t.Errorf("a refused change left audit rows: %+v", got)
	}
	// A restart with the same password writes nothing; a new one updates.
	// (bcrypt is slow on purpose: the unchanged restart must not hash.)
	noHash := func() (string, error) { t.Error("an unchanged restart hashed the password"); return "", nil }
	if changed, err := s.EnsureAdmin(ctx, "admin", noHash, func(string) bool { return true }); err != nil || changed {
		t.Errorf("EnsureAdmin with an unchanged password: changed=%t err=%v", changed, err)
	}
	if changed, err := s.EnsureAdmin(ctx, "admin", hashOf("$2a$h2"), func(string) bool { return false }); err != nil || !changed {
		t.Errorf("EnsureAdmin with a new password: changed=%t err=%v", changed, err)
	}
	if u, err := s.UserByEmail(ctx, "admin"); err != nil || u.PasswordHash == nil || *u.PasswordHash != "$2a$h2" {
		t.Errorf("after a new ADMIN_PASSWORD: %+v %v, want the new hash stored", u.PasswordHash, err)
	}
}

func TestDisablingEndsSessionsAndRoleChangesShowAtOnce(t *testing.T) {
	t.Parallel()
	s := newTestStore(t, db.Options{})
	ctx := context.Background()
	u, err := s.InviteUser(ctx, "dan@example.com", "", "marketer", db.NewInvite{TokenHash: []byte("dan"), Purpose: db.InvitePurposeInvite})
	if err != nil {
		t.Fatal(err)
	}
	tok := []byte("session-token-hash")
	if _, err := s.CreateSession(ctx, db.NewSession{UserID: u.ID, TokenHash: tok, ExpiresAt: time.Now().Add(time.Hour), Client: "198.51.100.1"}); err != nil {
		t.Fatal(err)
	}
	viewer := "viewer"
	if _, err := s.ChangeUser(ctx, u.ID, db.UserChange{Role: &viewer}); err != nil {
		t.Fatal(err)
	}
	su, err := s.SessionByToken(ctx, tok)
	if err != nil || su.Role != "viewer" {
		t.Fatalf("session after the role change: %+v, %v; want role viewer", su, err)
	}
	yes := true
	if _, err := s.ChangeUser(ctx, u.ID, db.UserChange{Disabled: &yes}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SessionByToken(ctx, tok); !errors.Is(err, db.ErrNotFound) {
		t.Errorf("a disabled user's session still works: %v", err)
	}
	got := auditRows(t, s, db.AuditUserRoleChanged)
	if len(got) != 1 || string(got[0].Before) != `{"role": "marketer"}` || string(got[0].After) != `{"role": "viewer"}` {
		t.Errorf("role change audit: %+v", got)
	}
}

func TestAPIKeysRevokeExpireAndOwnerDisabled(t *testing.T) {
	t.Parallel()
	s := newTestStore(t, db.Options{})
	ctx := db.WithActor(context.Background(), alice)
	u, err := s.InviteUser(ctx, "erin@example.com", "", "marketer", db.NewInvite{TokenHash: []byte("erin"), Purpose: db.InvitePurposeInvite})
	if err != nil {
		t.Fatal(err)
	}
	past := time.Now().Add(-time.Minute)
	for _, k := range []db.NewAPIKey{
		{Name: "ci", Role: "viewer", Hash: []byte("h-ci")},
		{Name: "old", Role: "viewer", Hash: []byte("h-old"), ExpiresAt: &past},
		{Name: "erins", Role: "marketer", UserID: &u.ID, Hash: []byte("h-erin")},
	} {
		if _, err := s.CreateAPIKey(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.CreateAPIKey(ctx, db.NewAPIKey{Name: "ci", Role: "viewer", Hash: []byte("h-ci2")}); !errors.Is(err, db.ErrConflict) {
		t.Errorf("a second live key named ci: %v, want ErrConflict", err)
	}
	if k, err := s.KeyByHash(ctx, []byte("h-erin")); err != nil || *k.OwnerRole != "marketer" {
		t.Fatalf("erin's key: %+v %v", k, err)
	}
	if _, err := s.KeyByHash(ctx, []byte("h-old")); !errors.Is(err, db.ErrNotFound) {
		t.Errorf("an expired key is usable: %v", err)
	}
	if _, err := s.RevokeAPIKeyByName(ctx, "ci"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.KeyByHash(ctx, []byte("h-ci")); !errors.Is(err, db.ErrNotFound) {
		t.Errorf("a revoked key is usable: %v", err)
	}
	if _, err := s.RevokeAPIKeyByName(ctx, "ci"); !errors.Is(err, db.ErrNotFound) {
		t.Errorf("revoking twice: %v, want ErrNotFound", err)
	}
	yes := true
	if _, err := s.ChangeUser(ctx, u.ID, db.UserChange{Disabled: &yes}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.KeyByHash(ctx, []byte("h-erin")); !errors.Is(err, db.ErrNotFound) {
		t.Errorf("a disabled user's key is usable: %v", err)
	}
	var n int
	if err := s.DB().Get(&n, `SELECT COUNT(*) FROM audit_log WHERE action IN ('key.created', 'key.revoked') AND actor = $1 AND client_addr = $2`, alice.Name, alice.Client); err != nil || n != 4 {
		t.Errorf("%d key audit rows by alice from her address (%v), want 4", n, err)
	}
}

// Each change path writes its row in its own transaction: a refused
// change writes none, and the rows carry who, what, before and after.
func TestAuditRowsForLinkAndTemplateChanges(t *testing.T) {
	t.Parallel()
	s := newTestStore(t, db.Options{})
	ctx := db.WithActor(context.Background(), alice)
	old, _, err := s.GetOrCreateLink(ctx, siteLink("https://audit.example.com/"))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.GetOrCreateLink(ctx, siteLink("https://audit.example.com/")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Deactivate(ctx, old.Slug); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.GetOrCreateLink(ctx, siteLink("https://audit.example.com/")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Activate(ctx, old.Slug); !errors.Is(err, db.ErrConflict) {
		t.Fatalf("reactivating over a newer active link: %v, want ErrConflict", err)
	}
	if got := auditRows(t, s, db.AuditLinkCreated); len(got) != 2 || got[0].ObjectID != old.Slug || got[0].Actor != alice.Name {
		t.Errorf("link.created rows (one per link actually created): %+v", got)
	}
	if got := auditRows(t, s, db.AuditLinkReactivated); len(got) != 0 {
		t.Errorf("the refused reactivation left a row: %+v", got)
	}
	d := auditRows(t, s, db.AuditLinkDeactivated)
	if len(d) != 1 || string(d[0].Before) != `{"is_active": true, "superseded_by": null}` || d[0].ClientAddr != alice.Client {
		t.Errorf("link.deactivated rows: %+v", d)
	}
	link, err := s.FindBySlug(ctx, old.Slug)
	if err != nil || link.CreatedBy == nil || *link.CreatedBy != alice.Name {
		t.Errorf("the link does not say who created it: %+v %v", link.CreatedBy, err)
	}
	if err := s.SaveMessageTemplate(ctx, "friendly", "Hi {business}: {link}"); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveMessageTemplate(ctx, "friendly", "Hello {business}: {link}"); err != nil {
		t.Fatal(err)
	}
	e := auditRows(t, s, db.AuditTemplateEdited)
	if len(e) != 2 || string(e[0].Before) != `{"body": null}` || string(e[1].Before) != `{"body": "Hi {business}: {link}"}` ||
		string(e[1].After) != `{"body": "Hello {business}: {link}"}` {
		t.Errorf("template.edited rows: %+v", e)
	}
}

func TestAuditPagingAndRetention(t *testing.T) {
	t.Parallel()
	s := newTestStore(t, db.Options{})
	ctx := db.WithActor(context.Background(), db.CLIActor)
	for range 5 {
		if err := s.Audit(ctx, db.AuditSignInFailed, "user", "x@example.com", nil); err != nil {
			t.Fatal(err)
		}
	}
	var ids []int64
	var cur *db.Cursor
	for range 10 {
		page, err := s.ListAudit(ctx, db.AuditFilter{Limit: 2, Cursor: cur})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page.Entries {
			ids = append(ids, e.ID)
		}
		if page.Next == nil {
			break
		}
		c, err := db.ParseCursor(page.Next.String())
		if err != nil {
			t.Fatal(err)
		}
		cur = &c
	}
	if len(ids) != 5 || ids[0] <= ids[4] {
		t.Errorf("paged ids %v: want all 5, newest first", ids)
	}
	s.DB().MustExec(`UPDATE audit_log SET at = now() - interval '401 days' WHERE id = $1`, ids[4])
	if n, err := s.PruneAudit(ctx, db.DefaultAuditRetention); err != nil || n != 1 {
		t.Errorf("pruned %d (%v), want the one row past 400 days", n, err)
	}
}

// hashOf is EnsureAdmin's hash function for a fixed hash.
func hashOf(h string) func() (string, error) { return func() (string, error) { return h, nil } }
