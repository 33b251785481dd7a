package handlers

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/shortlinks/shortlinks/db"
)

// Cookie names of the admin console.
const (
	sessionCookie = "shortlinks_session"
	csrfCookie    = "shortlinks_csrf"
	sessionTTL    = 12 * time.Hour
)

// sessionSecretName is the app_secrets row holding the signing key when
// SESSION_SECRET is not configured.
const sessionSecretName = "session_signing_key"

// secretStore keeps the generated signing key where every instance finds it.
type secretStore interface {
	AppSecret(ctx context.Context, name string, candidate []byte) ([]byte, error)
}

// sessions issues console session cookies and signs CSRF tokens. A
// session cookie is a random token; the database keeps only its hash, with
// the user (db.SessionByToken), so every instance accepts a cookie another
// issued and sees an ended session, a disabled user or a new role at the
// next request. CSRF tokens are HMACs under a key shared by the instances:
// SESSION_SECRET, or else a random key generated once and kept in the
// database. The key is never derived from a password: a token signed with
// it would let anyone test password guesses offline.
type sessions struct {
	store    secretStore
	secure   bool          // Secure cookies, when BASE_URL is https
	checking chan struct{} // bounds concurrent password checks

	mu  sync.Mutex
	key []byte // from SESSION_SECRET, or loaded from store on first use
}

func newSessions(cfg Config, store secretStore) *sessions {
	s := &sessions{store: store, secure: strings.HasPrefix(cfg.BaseURL, "https://"), checking: make(chan struct{}, 2)}
	if cfg.SessionSecret != "" {
		key := sha256.Sum256([]byte(cfg.SessionSecret))
		s.key = key[:]
	}
	return s
}

// signingKey returns the key, reading (or, on the very first boot of the
// database, creating) the shared one on first use. A failure is not
// remembered: the next request tries again.
func (s *sessions) signingKey(ctx context.Context) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.key != nil {
		return s.key, nil
	}
	candidate := make([]byte, 32)
	rand.Read(candidate)
	key, err := s.store.AppSecret(ctx, sessionSecretName, candidate)
	if err != nil {
		return nil, err
	}
	s.key = key
	return key, nil
}

// checkPassword compares password with a stored bcrypt hash; an empty
// hash (an unknown user, or one who never set a password) is compared
// with a dummy so the answer takes as long either way. bcrypt costs tens
// of milliseconds of CPU: a few checks at a time, so a flood of sign-ins
// cannot occupy every core.
func (s *sessions) checkPassword(hash, password string) bool {
	s.checking <- struct{}{}
	defer func() { <-s.checking }()
	if hash == "" {
		bcrypt.CompareHashAndPassword(dummyHash, []byte(password))
		return false
	}
	return bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) == nil
}

// dummyHash is a bcrypt hash of nothing anyone can type, at the default cost.
var dummyHash, _ = bcrypt.GenerateFromPassword([]byte("\x00no user\x00"), bcrypt.DefaultCost)

func isBcrypt(s string) bool {
	return len(s) == 60 && (strings.HasPrefix(s, "$2a$") || strings.HasPrefix(s, "$2b$") || strings.HasPrefix(s, "$2y$"))
}

func (s *sessions) sign(ctx context.Context, payload string) (string, error) {
	key, err := s.signingKey(ctx)
	if err != nil {
		return "", err
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(payload))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)), nil
}

// session is the live console session of a request.
type session struct {
	id        int64 // user_sessions.id, shown on the Sessions page
	tokenHash []byte
	user      db.SessionUser
}

// issue returns a new session token and its cookie.
func (s *sessions) issue() (token string, cookie *http.Cookie) {
	var b [32]byte
	rand.Read(b[:])
	token = base64.RawURLEncoding.EncodeToString(b[:])
	return token, s.cookie(sessionCookie, token, int(sessionTTL.Seconds()))
}

// csrfToken is the form token for a signed-in session (bound to its id, so
// it changes at every sign-in and no other cookie can stand in for it) or,
// before sign-in, for the browser's anonymous CSRF cookie (signed double
// submit: a forged form cannot know it without reading our cookie).
func (s *sessions) csrfToken(ctx context.Context, sess *session, anonCookie string) (string, error) {
	if sess != nil {
		return s.sign(ctx, "csrf:session:"+strconv.FormatInt(sess.id, 10))
	}
	return s.sign(ctx, "csrf:anonymous:"+anonCookie)
}

func (s *sessions) newCSRFCookie() *http.Cookie {
	var b [32]byte
	rand.Read(b[:])
	return s.cookie(csrfCookie, base64.RawURLEncoding.EncodeToString(b[:]), 0)
}

func (s *sessions) cookie(name, value string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode}
}

// expired returns a cookie that deletes name.
func (s *sessions) expired(name string) *http.Cookie {
	c := s.cookie(name, "", -1)
	c.Expires = time.Unix(0, 0)
	return c
}
