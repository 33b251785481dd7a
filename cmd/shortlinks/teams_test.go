package main_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/jmoiron/sqlx"

	"github.com/shortlinks/shortlinks/db/pgtest"
)

// The CLI invites users and makes and revokes keys; what it prints is the
// only copy of the secrets (no table holds them), and the audit trail
// names the actor "cli".
func TestCLIUsersAndKeys(t *testing.T) {
	t.Parallel()
	url := pgtest.NewMigratedDatabase(t)
	out, code := cli(t, url, "users", "-base-url", "https://sl.example.com", "invite", "mia@example.com", "--role", "marketer")
	link := regexp.MustCompile(`https://sl\.example\.com/admin/set-password/(sli_[A-Za-z0-9_-]+)`).FindStringSubmatch(out)
	if code != 0 || link == nil {
		t.Fatalf("users invite: exit %d\n%s", code, out)
	}
	if out, code := cli(t, url, "users", "invite", "MIA@example.com", "--role", "viewer"); code == 0 || !strings.Contains(out, "already has an account") {
		t.Errorf("inviting an existing email: exit %d\n%s", code, out)
	}
	if out, code := cli(t, url, "users", "invite", "nobody", "--role", "viewer"); code == 0 || !strings.Contains(out, "not an email") {
		t.Errorf("inviting a non-address: exit %d\n%s", code, out)
	}
	if out, code := cli(t, url, "users", "invite", "x@example.com", "--role", "root"); code == 0 || !strings.Contains(out, "--role") {
		t.Errorf("inviting with an unknown role: exit %d\n%s", code, out)
	}
	out, code = cli(t, url, "keys", "create", "--name", "zapier", "--role", "viewer", "--expires", "2999-12-31")
	key := regexp.MustCompile(`(?m)^slk_[A-Za-z0-9_-]{43}$`).FindString(out)
	if code != 0 || key == "" {
		t.Fatalf("keys create: exit %d\n%s", code, out)
	}
	if out, code := cli(t, url, "keys", "create", "--name", "old", "--role", "viewer", "--expires", "2001-01-01"); code == 0 || !strings.Contains(out, "expires") {
		t.Errorf("a key expiring in the past: exit %d\n%s", code, out)
	}
	if out, code := cli(t, url, "keys", "list"); code != 0 || !strings.Contains(out, "zapier") || strings.Contains(out, key) {
		t.Errorf("keys list must name the key and not show it: exit %d\n%s", code, out)
	}

	conn := sqlx.MustOpen("postgres", url)
	defer conn.Close()
	// No column of any table holds either secret.
	var found int
	for _, secret := range []string{key, link[1]} {
		err := conn.Get(&found, `SELECT COUNT(*) FROM (
			SELECT to_jsonb(u)::text AS t FROM users u UNION ALL SELECT to_jsonb(k)::text FROM api_keys k
			UNION ALL SELECT to_jsonb(i)::text FROM invites i UNION ALL SELECT to_jsonb(a)::text FROM audit_log a) r
			WHERE strpos(t, $1) > 0 OR strpos(t, encode(convert_to($1, 'UTF8'), 'hex')) > 0`, secret)
		if err != nil || found != 0 {
			t.Errorf("a table holds the secret %q... (%d rows, %v)", secret[:8], found, err)
		}
	}
	if out, code := cli(t, url, "keys", "revoke", "zapier"); code != 0 {
		t.Fatalf("keys revoke: exit %d\n%s", code, out)
	}
	if out, code := cli(t, url, "keys", "revoke", "zapier"); code == 0 || !strings.Contains(out, "no live key") {
		t.Errorf("revoking a revoked key: exit %d\n%s", code, out)
	}
	leads := filepath.Join(t.TempDir(), "leads.csv")
	if err := os.WriteFile(leads, []byte("name,site_url\nCLI Bakery,https://cli-bakery.example.com/\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, code := cli(t, url, "businesses", "import", leads); code != 0 {
		t.Fatalf("businesses import: exit %d\n%s", code, out)
	}
	var actions []string
	if err := conn.Select(&actions, `SELECT action FROM audit_log WHERE actor = 'cli' AND actor_kind = 'cli' ORDER BY id`); err != nil {
		t.Fatal(err)
	}
	if strings.Join(actions, " ") != "user.invited key.created key.revoked business.imported" {
		t.Errorf("audit rows by cli: %v", actions)
	}
}
