package access

import (
	"fmt"
	"regexp"
	"time"
)

// keyName is what a key may be called (migration 00027 checks the same).
var keyName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// NewKey is a validated request for an API key.
type NewKey struct {
	Name      string
	Role      string
	ExpiresAt *time.Time // the end of the given day, UTC; nil: never
}

// FieldError names the field of a request that is wrong.
type FieldError struct {
	Field   string
	Message string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Message }

// ParseNewKey checks a key request from the console, the API or the CLI:
// a name, a role, and an optional last day (YYYY-MM-DD, today or later).
func ParseNewKey(name, role, expires string, now time.Time) (NewKey, error) {
	if !keyName.MatchString(name) {
		return NewKey{}, &FieldError{"name", "1 to 64 letters, digits, dots, dashes or underscores, starting with a letter or digit"}
	}
	if !ValidRole(role) {
		return NewKey{}, &FieldError{"role", fmt.Sprintf("must be admin, marketer or viewer, not %q", role)}
	}
	k := NewKey{Name: name, Role: role}
	if expires != "" {
		day, err := time.Parse(time.DateOnly, expires)
		if err != nil {
			return NewKey{}, &FieldError{"expires", "a date as YYYY-MM-DD"}
		}
		end := day.Add(24 * time.Hour) // the key works through the whole day
		if !end.After(now) {
			return NewKey{}, &FieldError{"expires", "a day in the past"}
		}
		k.ExpiresAt = &end
	}
	return k, nil
}
