package access

import "net/mail"

// SetPasswordPath is where invite and reset links point (the console's
// set-password page); the token follows. The console and the CLI print
// links to it.
const SetPasswordPath = "/admin/set-password/"

// MaxNameLength is the longest display name (users.display_name's CHECK).
const MaxNameLength = 100

// ValidEmail reports whether s is a bare email address (no display name,
// no angle brackets) of at most 254 characters (users.email's CHECK): what
// a person signs in with.
func ValidEmail(s string) bool {
	addr, err := mail.ParseAddress(s)
	return err == nil && addr.Address == s && len(s) <= 254
}
