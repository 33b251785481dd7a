// Package access holds the rules of who may do what: the roles, the
// permission each role carries, the password policy (with the embedded list
// of common passwords) and the format of secrets handed to people (API keys,
// set-password links). Pure logic: it knows no HTTP and no storage.
package access

import "slices"

// Roles, from most to least powerful.
const (
	RoleAdmin    = "admin"
	RoleMarketer = "marketer"
	RoleViewer   = "viewer"
)

// Roles lists every role, most powerful first.
var Roles = []string{RoleAdmin, RoleMarketer, RoleViewer}

// ValidRole reports whether r names a role.
func ValidRole(r string) bool { return slices.Contains(Roles, r) }

// rank orders roles: a higher rank can do everything a lower one can.
func rank(r string) int {
	switch r {
	case RoleAdmin:
		return 3
	case RoleMarketer:
		return 2
	case RoleViewer:
		return 1
	}
	return 0
}

// AtMost reports whether role r grants nothing beyond role limit: an API
// key's role may never be above its creator's.
func AtMost(r, limit string) bool { return ValidRole(r) && rank(r) <= rank(limit) }
