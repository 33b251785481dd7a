package db

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
)

// Session is one console session of a user.
type Session struct {
	ID         int64     `db:"id"`
	UserID     int64     `db:"user_id"`
	CreatedAt  time.Time `db:"created_at"`
	LastSeenAt time.Time `db:"last_seen_at"`
	ExpiresAt  time.Time `db:"expires_at"`
	ClientAddr string    `db:"client_addr"`
	UserAgent  string    `db:"user_agent"`
}

// SessionUser is a live session with its user as they are now.
type SessionUser struct {
	Session
	Email       string `db:"email"`
	DisplayName string `db:"display_name"`
	Role        string `db:"role"`
}

const sessionColumns = `s.id, s.user_id, s.created_at, s.last_seen_at, s.expires_at, s.client_addr, s.user_agent`

// NewSession is what a sign-in stores: the hash of the cookie's token.
type NewSession struct {
	UserID    int64
	TokenHash []byte
	ExpiresAt time.Time
	Client    string
	UserAgent string
}

// CreateSession records a sign-in: the session, the user's last sign-in
// time and the audit row, in one transaction.
func (s *Store) CreateSession(ctx context.Context, ns NewSession) (Session, error) {
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return Session{}, fmt.Errorf("store: create session: %w", classify(err))
	}
	defer tx.Rollback()
	var sess Session
	err = tx.GetContext(ctx, &sess, `INSERT INTO user_sessions AS s (token_hash, user_id, expires_at, client_addr, user_agent)
		VALUES ($1, $2, $3, $4, left($5, 300)) RETURNING `+sessionColumns,
		ns.TokenHash, ns.UserID, ns.ExpiresAt, ns.Client, ns.UserAgent)
	if err != nil {
		return Session{}, fmt.Errorf("store: create session: %w", classify(err))
	}
	var email string
	if err := tx.GetContext(ctx, &email, `UPDATE users SET last_sign_in_at = now() WHERE id = $1 RETURNING email`, ns.UserID); err != nil {
		return Session{}, fmt.Errorf("store: create session: %w", classify(err))
	}
	ctx = WithActor(ctx, Actor{Kind: ActorUser, Name: email, UserID: ns.UserID, Client: ns.Client})
	if err := s.audit(ctx, tx, AuditSignIn, "session", fmt.Sprint(sess.ID), nil, map[string]string{"user_agent": sess.UserAgent}); err != nil {
		return Session{}, err
	}
	if err := tx.Commit(); err != nil {
		return Session{}, fmt.Errorf("store: create session: %w", classify(err))
	}
	return sess, nil
}

// SessionByToken returns the live session whose cookie token hashes to
// tokenHash, with its user as they are now: one index probe per request,
// which is how an ended session, a disabled user or a new role holds on
// every instance at once. ErrNotFound when ended, expired or disabled.
func (s *Store) SessionByToken(ctx context.Context, tokenHash []byte) (SessionUser, error) {
	var su SessionUser
	err := s.db.GetContext(ctx, &su, `SELECT `+sessionColumns+`, u.email, u.display_name, u.role
		FROM user_sessions s JOIN users u ON u.id = s.user_id
		WHERE s.token_hash = $1 AND s.ended_at IS NULL AND s.expires_at > now() AND NOT u.disabled`, tokenHash)
	if err != nil {
		return SessionUser{}, fmt.Errorf("store: session: %w", classify(err))
	}
	return su, nil
}

// TouchSession moves a session's last-seen time, at most once a minute so
// browsing does not write on every request.
func (s *Store) TouchSession(ctx context.Context, id int64) error {
	_, err := s.db.ExecContext(ctx, `UPDATE user_sessions SET last_seen_at = now()
		WHERE id = $1 AND last_seen_at < now() - interval '1 minute'`, id)
	if err != nil {
		return fmt.Errorf("store: touch session: %w", classify(err))
	}
	return nil
}

// ListSessions returns the live sessions of a user, newest first.
func (s *Store) ListSessions(ctx context.Context, userID int64) ([]Session, error) {
	out := []Session{}
	err := s.db.SelectContext(ctx, &out, `SELECT `+sessionColumns+` FROM user_sessions s
		WHERE s.user_id = $1 AND s.ended_at IS NULL AND s.expires_at > now()
		ORDER BY s.created_at DESC LIMIT 200`, userID)
	if err != nil {
		return nil, fmt.Errorf("store: list sessions: %w", classify(err))
	}
	return out, nil
}

// EndSessions ends the live sessions of userID: the one with id only
// (except = false), or every one but id (except = true, "sign out
// everywhere else"). It returns how many ended, with one audit row each.
func (s *Store) EndSessions(ctx context.Context, userID, id int64, except bool) (int, error) {
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("store: end sessions: %w", classify(err))
	}
	defer tx.Rollback()
	var ended []int64
	err = tx.SelectContext(ctx, &ended, `UPDATE user_sessions SET ended_at = now()
		WHERE user_id = $1 AND ended_at IS NULL AND (id = $2) <> $3
		RETURNING id`, userID, id, except)
	if err != nil {
		return 0, fmt.Errorf("store: end sessions: %w", classify(err))
	}
	for _, e := range ended {
		if err := s.audit(ctx, tx, AuditSessionEnded, "session", fmt.Sprint(e), nil, nil); err != nil {
			return 0, err
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("store: end sessions: %w", classify(err))
	}
	return len(ended), nil
}

// endUserSessions ends every open session of a user in tx: a new
// password, a disabled account, a reset all lock out whoever was signed in.
func endUserSessions(ctx context.Context, tx *sqlx.Tx, userID int64) error {
	if _, err := tx.ExecContext(ctx, `UPDATE user_sessions SET ended_at = now() WHERE user_id = $1 AND ended_at IS NULL`, userID); err != nil {
		return fmt.Errorf("store: end sessions: %w", classify(err))
	}
	return nil
}

// PruneSessions deletes sessions that expired or ended a day ago.
func (s *Store) PruneSessions(ctx context.Context) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM user_sessions
		WHERE expires_at < now() - interval '1 day' OR ended_at < now() - interval '1 day'`)
	if err != nil {
		return fmt.Errorf("store: prune sessions: %w", classify(err))
	}
	return nil
}
