package db

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
)

// Invite purposes.
const (
	InvitePurposeInvite = "invite"
	InvitePurposeReset  = "reset"
)

// InviteTTL is how long a set-password link works.
const InviteTTL = 72 * time.Hour

// NewInvite is a set-password link to store: only the hash of its token.
type NewInvite struct {
	TokenHash []byte
	Purpose   string
}

// Invite is a usable set-password link and the user it is for.
type Invite struct {
	ID        int64     `db:"id"`
	UserID    int64     `db:"user_id"`
	Email     string    `db:"email"`
	Purpose   string    `db:"purpose"`
	ExpiresAt time.Time `db:"expires_at"`
}

// insertInvite stores inv for user, voiding the user's older unused links,
// inside the caller's transaction.
func (s *Store) insertInvite(ctx context.Context, tx *sqlx.Tx, userID int64, inv NewInvite) error {
	if _, err := tx.ExecContext(ctx, `UPDATE invites SET expires_at = least(expires_at, now())
		WHERE user_id = $1 AND used_at IS NULL`, userID); err != nil {
		return fmt.Errorf("store: void older invites: %w", classify(err))
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO invites (user_id, token_hash, purpose, created_by, expires_at)
		VALUES ($1, $2, $3, $4, now() + $5 * interval '1 second')`,
		userID, inv.TokenHash, inv.Purpose, createdBy(ctx), int64(InviteTTL.Seconds()))
	if err != nil {
		return fmt.Errorf("store: insert invite: %w", classify(err))
	}
	return nil
}

// IssueReset stores a reset link for user id (an admin's "reset link"),
// voiding any earlier link, with its audit row.
func (s *Store) IssueReset(ctx context.Context, id int64, tokenHash []byte) (User, error) {
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return User{}, fmt.Errorf("store: issue reset: %w", classify(err))
	}
	defer tx.Rollback()
	var u User
	if err := tx.GetContext(ctx, &u, `SELECT `+userColumns+` FROM users WHERE id = $1 FOR UPDATE`, id); err != nil {
		return User{}, fmt.Errorf("store: issue reset for %d: %w", id, classify(err))
	}
	if err := s.insertInvite(ctx, tx, id, NewInvite{TokenHash: tokenHash, Purpose: InvitePurposeReset}); err != nil {
		return User{}, err
	}
	if err := s.audit(ctx, tx, AuditUserResetIssued, "user", u.Email, nil, nil); err != nil {
		return User{}, err
	}
	if err := tx.Commit(); err != nil {
		return User{}, fmt.Errorf("store: issue reset: %w", classify(err))
	}
	return u, nil
}

// InviteByToken returns the usable link whose token hashes to tokenHash:
// unused, unexpired, for an enabled user. ErrNotFound otherwise.
func (s *Store) InviteByToken(ctx context.Context, tokenHash []byte) (Invite, error) {
	var inv Invite
	err := s.db.GetContext(ctx, &inv, `SELECT i.id, i.user_id, u.email, i.purpose, i.expires_at
		FROM invites i JOIN users u ON u.id = i.user_id
		WHERE i.token_hash = $1 AND i.used_at IS NULL AND i.expires_at > now() AND NOT u.disabled`, tokenHash)
	if err != nil {
		return Invite{}, fmt.Errorf("store: invite: %w", classify(err))
	}
	return inv, nil
}

// UseInvite sets the password of the link's user and spends the link, once:
// the conditional UPDATE lets exactly one of concurrent uses through. The
// user's sessions end (a reset must lock out whoever knew the old
// password). ErrNotFound when the link is used, expired or unknown.
func (s *Store) UseInvite(ctx context.Context, tokenHash []byte, passwordHash string) (User, error) {
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return User{}, fmt.Errorf("store: use invite: %w", classify(err))
	}
	defer tx.Rollback()
	var userID int64
	err = tx.GetContext(ctx, &userID, `UPDATE invites SET used_at = now()
		WHERE token_hash = $1 AND used_at IS NULL AND expires_at > now()
		  AND user_id IN (SELECT id FROM users WHERE NOT disabled)
		RETURNING user_id`, tokenHash)
	if err != nil {
		return User{}, fmt.Errorf("store: use invite: %w", classify(err))
	}
	var u User
	if err := tx.GetContext(ctx, &u, `UPDATE users SET password_hash = $2, updated_at = now() WHERE id = $1
		RETURNING `+userColumns, userID, passwordHash); err != nil {
		return User{}, fmt.Errorf("store: set password: %w", classify(err))
	}
	if err := endUserSessions(ctx, tx, userID); err != nil {
		return User{}, err
	}
	// The person acting is the link's user, whoever the context says.
	ctx = WithActor(ctx, Actor{Kind: ActorUser, Name: u.Email, UserID: u.ID, Client: ActorFrom(ctx).Client})
	if err := s.audit(ctx, tx, AuditUserPasswordSet, "user", u.Email, nil, nil); err != nil {
		return User{}, err
	}
	if err := tx.Commit(); err != nil {
		return User{}, fmt.Errorf("store: use invite: %w", classify(err))
	}
	return u, nil
}
