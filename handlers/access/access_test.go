package access

import (
	"errors"
	"strings"
	"testing"
)

func TestEmbeddedListHoldsAtLeast100000Passwords(t *testing.T) {
	t.Parallel()
	if n := CommonPasswordCount(); n < 100_000 {
		t.Fatalf("embedded list has %d passwords, want at least 100,000", n)
	}
}

func TestCheckPassword(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		pw   string
		want error
	}{
		{"short", ErrPasswordTooShort},
		{"elevenchars", ErrPasswordTooShort},
		{"qwerty123456", ErrPasswordCommon}, // on the list
		{"QWERTY123456", ErrPasswordCommon}, // case does not help
		{"1qaz2wsx3edc", ErrPasswordCommon},
		{strings.Repeat("é", 40), ErrPasswordTooLong}, // 80 bytes: bcrypt would cut it
		{"plum-harbor-cactus-41", nil},
		{"twelve chars", nil},
	} {
		if err := CheckPassword(c.pw); !errors.Is(err, c.want) {
			t.Errorf("CheckPassword(%q) = %v, want %v", c.pw, err, c.want)
		}
	}
}

func TestRoles(t *testing.T) {
	t.Parallel()
	if !Allows(RoleMarketer, SendsRecord) || Allows(RoleViewer, SendsRecord) {
		t.Error("marketers record sends, viewers do not")
	}
	if Allows(RoleMarketer, LinksCreate) || Allows(RoleMarketer, HealthRun) || Allows(RoleMarketer, UsersManage) {
		t.Error("marketers must not create links outside a preview, heal or manage users")
	}
	// What only an admin does, named here rather than read from the table
	// under test.
	for _, p := range []Permission{UsersManage, AuditRead, HealthRun, LinksCreate, SendsRecord, LinksRead} {
		if !Allows(RoleAdmin, p) {
			t.Errorf("admin lacks %s", p)
		}
	}
	for _, p := range []Permission{UsersManage, AuditRead, HealthRun} {
		if Allows(RoleMarketer, p) || Allows(RoleViewer, p) {
			t.Errorf("%s is an admin's alone", p)
		}
	}
	if Allows("root", LinksRead) || Allows("", Public) {
		t.Error("an unknown role is allowed nothing")
	}
	if !AtMost(RoleViewer, RoleMarketer) || AtMost(RoleAdmin, RoleMarketer) || AtMost("root", RoleAdmin) {
		t.Error("AtMost orders admin > marketer > viewer and refuses unknown roles")
	}
}

func TestSecrets(t *testing.T) {
	t.Parallel()
	a, b := NewSecret(KeyPrefix), NewSecret(KeyPrefix)
	if a == b || !strings.HasPrefix(a, KeyPrefix) || len(a) < 40 {
		t.Fatalf("secrets %q, %q: want distinct, prefixed, long", a, b)
	}
	if string(Hash(a)) == string(Hash(b)) || len(Hash(a)) != 32 {
		t.Error("hashes must differ and be 32 bytes")
	}
	if strings.Contains(Hint(a), a[8:]) {
		t.Error("the hint must not reveal the key")
	}
}

func TestValidEmail(t *testing.T) {
	t.Parallel()
	for s, want := range map[string]bool{
		"sam@example.com":       true,
		"Sam <sam@example.com>": false, // a display name is not what one signs in with
		"sam":                   false,
		"":                      false,
		strings.Repeat("a", 243) + "@example.com": false, // 255 characters: past the column's 254
		strings.Repeat("a", 242) + "@example.com": true,
	} {
		if got := ValidEmail(s); got != want {
			t.Errorf("ValidEmail(%.30q…) = %t, want %t", s, got, want)
		}
	}
}
