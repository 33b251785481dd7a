package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// User is one row of users: a person who signs in to the console.
type User struct {
	ID           int64      `db:"id"`
	Email        string     `db:"email"`
	DisplayName  string     `db:"display_name"`
	Role         string     `db:"role"`
	Disabled     bool       `db:"disabled"`
	PasswordHash *string    `db:"password_hash"` // nil until an invite is used
	CreatedAt    time.Time  `db:"created_at"`
	UpdatedAt    time.Time  `db:"updated_at"`
	LastSignInAt *time.Time `db:"last_sign_in_at"`
}

// State is what the user's row allows: "disabled", "invited" (no password
// set yet) or "active".
func (u User) State() string {
	switch {
	case u.Disabled:
		return "disabled"
	case u.PasswordHash == nil:
		return "invited"
	}
	return "active"
}

// ErrLastAdmin means a change would leave no enabled admin.
var ErrLastAdmin = errors.New("the last enabled admin cannot be disabled or demoted")

const userColumns = `id, email, display_name, role, disabled, password_hash, created_at, updated_at, last_sign_in_at`

// userAudit is a user as audit rows show it: never the password hash.
func userAudit(u User) map[string]any {
	return map[string]any{"email": u.Email, "display_name": u.DisplayName, "role": u.Role, "disabled": u.Disabled}
}

// InviteUser creates a user without a password and the invite that lets
// them choose one, in one transaction with its audit row. ErrConflict when
// the email is taken (in any case).
func (s *Store) InviteUser(ctx context.Context, email, displayName, role string, inv NewInvite) (User, error) {
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return User{}, fmt.Errorf("store: invite user: %w", classify(err))
	}
	defer tx.Rollback()
	var u User
	err = tx.GetContext(ctx, &u, `INSERT INTO users (email, display_name, role) VALUES ($1, $2, $3)
		RETURNING `+userColumns, email, displayName, role)
	if isUniqueViolation(err, "users_email_key") {
		return User{}, fmt.Errorf("store: invite user: %q already has an account: %w", email, ErrConflict)
	}
	if err != nil {
		return User{}, fmt.Errorf("store: invite user: %w", classify(err))
	}
	if err := s.insertInvite(ctx, tx, u.ID, inv); err != nil {
		return User{}, err
	}
	if err := s.audit(ctx, tx, AuditUserInvited, "user", u.Email, nil, userAudit(u)); err != nil {
		return User{}, err
	}
	if err := tx.Commit(); err != nil {
		return User{}, fmt.Errorf("store: invite user: %w", classify(err))
	}
	return u, nil
}

// EnsureAdmin creates or updates the bootstrap admin (ADMIN_USER /
// ADMIN_PASSWORD): an enabled admin whose password is the configured one.
// samePassword says whether a stored hash already matches it, so a restart
// changes nothing (and writes no audit row) when nothing changed;
// passwordHash hashes it, called only when a hash is to be written (a new
// admin, or a changed password): bcrypt is slow on purpose, and a restart
// should pay for it once, in samePassword. It returns whether anything was
// written.
func (s *Store) EnsureAdmin(ctx context.Context, email string, passwordHash func() (string, error), samePassword func(stored string) bool) (bool, error) {
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("store: ensure admin: %w", classify(err))
	}
	defer tx.Rollback()
	var hash string
	hashed := func() (string, error) {
		if hash == "" {
			h, err := passwordHash()
			if err != nil {
				return "", fmt.Errorf("store: ensure admin: %w", err)
			}
			hash = h
		}
		return hash, nil
	}
	const lockUser = `SELECT ` + userColumns + ` FROM users WHERE lower(email) = lower($1) FOR UPDATE`
	var u User
	created := false
	err = tx.GetContext(ctx, &u, lockUser, email)
	if errors.Is(err, sql.ErrNoRows) {
		h, herr := hashed()
		if herr != nil {
			return false, herr
		}
		// Two instances starting together: the insert's ON CONFLICT makes
		// one of them wait for the other's row, then lock it.
		var inserted []int64
		if ierr := tx.SelectContext(ctx, &inserted, `INSERT INTO users (email, role, password_hash) VALUES ($1, 'admin', $2)
			ON CONFLICT (lower(email)) DO NOTHING RETURNING id`, email, h); ierr != nil {
			return false, fmt.Errorf("store: ensure admin: %w", classify(ierr))
		}
		created = len(inserted) == 1
		err = tx.GetContext(ctx, &u, lockUser, email)
	}
	if err != nil {
		return false, fmt.Errorf("store: ensure admin: %w", classify(err))
	}
	passwordOK := created || u.PasswordHash != nil && samePassword(*u.PasswordHash)
	if !created && u.Role == "admin" && !u.Disabled && passwordOK {
		return false, nil
	}
	newHash := ""
	if !passwordOK {
		if newHash, err = hashed(); err != nil {
			return false, err
		}
	}
	before := userAudit(u)
	if !created {
		if _, err := tx.ExecContext(ctx, `UPDATE users SET role = 'admin', disabled = false,
				password_hash = CASE WHEN $2 THEN password_hash ELSE $3 END, updated_at = now()
			WHERE id = $1`, u.ID, passwordOK, newHash); err != nil {
			return false, fmt.Errorf("store: ensure admin: %w", classify(err))
		}
		u.Role, u.Disabled = "admin", false
		if !passwordOK {
			// A new ADMIN_PASSWORD locks out whoever knew the old one.
			if err := endUserSessions(ctx, tx, u.ID); err != nil {
				return false, err
			}
		}
	}
	after := userAudit(u)
	after["password_changed"] = !passwordOK
	if created {
		before = nil
	}
	if err := s.audit(ctx, tx, AuditUserBootstrapped, "user", u.Email, before, after); err != nil {
		return false, err
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("store: ensure admin: %w", classify(err))
	}
	return true, nil
}

// UserByEmail returns the user who signs in as email (any case).
func (s *Store) UserByEmail(ctx context.Context, email string) (User, error) {
	var u User
	err := s.db.GetContext(ctx, &u, `SELECT `+userColumns+` FROM users WHERE lower(email) = lower($1)`, email)
	if err != nil {
		return User{}, fmt.Errorf("store: user %q: %w", email, classify(err))
	}
	return u, nil
}

// GetUser returns the user with id.
func (s *Store) GetUser(ctx context.Context, id int64) (User, error) {
	var u User
	if err := s.db.GetContext(ctx, &u, `SELECT `+userColumns+` FROM users WHERE id = $1`, id); err != nil {
		return User{}, fmt.Errorf("store: user %d: %w", id, classify(err))
	}
	return u, nil
}

// ListUsers returns every user by email. Teams are small: no paging.
func (s *Store) ListUsers(ctx context.Context) ([]User, error) {
	users := []User{}
	if err := s.db.SelectContext(ctx, &users, `SELECT `+userColumns+` FROM users ORDER BY lower(email) LIMIT 1000`); err != nil {
		return nil, fmt.Errorf("store: list users: %w", classify(err))
	}
	return users, nil
}

// UserChange is an admin's change to a user; nil fields stay as they are.
type UserChange struct {
	Role     *string
	Disabled *bool
}

// ChangeUser applies c to user id with its audit rows, refusing
// (ErrLastAdmin) to leave no enabled admin. Disabling ends the user's
// sessions in the same transaction; every request reads the user anyway,
// so a disabled user's next request anywhere is refused.
func (s *Store) ChangeUser(ctx context.Context, id int64, c UserChange) (User, error) {
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return User{}, fmt.Errorf("store: change user: %w", classify(err))
	}
	defer tx.Rollback()
	// Admin rows are locked in id order before any is changed, so two
	// admins demoting each other at once cannot both pass the check.
	if _, err := tx.ExecContext(ctx, `SELECT id FROM users WHERE role = 'admin' OR id = $1 ORDER BY id FOR UPDATE`, id); err != nil {
		return User{}, fmt.Errorf("store: change user: %w", classify(err))
	}
	var old User
	if err := tx.GetContext(ctx, &old, `SELECT `+userColumns+` FROM users WHERE id = $1`, id); err != nil {
		return User{}, fmt.Errorf("store: change user %d: %w", id, classify(err))
	}
	u := old
	if c.Role != nil {
		u.Role = *c.Role
	}
	if c.Disabled != nil {
		u.Disabled = *c.Disabled
	}
	if old.Role == "admin" && !old.Disabled && (u.Role != "admin" || u.Disabled) {
		var others int
		if err := tx.GetContext(ctx, &others, `SELECT COUNT(*) FROM users WHERE role = 'admin' AND NOT disabled AND id <> $1`, id); err != nil {
			return User{}, fmt.Errorf("store: change user: %w", classify(err))
		}
		if others == 0 {
			return User{}, fmt.Errorf("store: change user %s: %w", old.Email, ErrLastAdmin)
		}
	}
	if err := tx.GetContext(ctx, &u, `UPDATE users SET role = $2, disabled = $3, updated_at = now()
		WHERE id = $1 RETURNING `+userColumns, id, u.Role, u.Disabled); err != nil {
		return User{}, fmt.Errorf("store: change user %d: %w", id, classify(err))
	}
	if u.Role != old.Role {
		if err := s.audit(ctx, tx, AuditUserRoleChanged, "user", u.Email, map[string]string{"role": old.Role}, map[string]string{"role": u.Role}); err != nil {
			return User{}, err
		}
	}
	if u.Disabled != old.Disabled {
		action := AuditUserEnabled
		if u.Disabled {
			action = AuditUserDisabled
			if err := endUserSessions(ctx, tx, id); err != nil {
				return User{}, err
			}
		}
		if err := s.audit(ctx, tx, action, "user", u.Email, map[string]bool{"disabled": old.Disabled}, map[string]bool{"disabled": u.Disabled}); err != nil {
			return User{}, err
		}
	}
	if err := tx.Commit(); err != nil {
		return User{}, fmt.Errorf("store: change user: %w", classify(err))
	}
	return u, nil
}
