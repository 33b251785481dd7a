package web

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

// cookie names of the admin console.
const (
	SessionCookie = "shortlinks_session"
	CSRFCookie    = "shortlinks_csrf"
	// DeviceCookie marks a browser that signed in to an account before
	// (admin/admin_auth.go): the account's failure limit spares it.
	DeviceCookie = "shortlinks_device"
	SessionTTL   = 12 * time.Hour
)

// sessionSecretName is the app_secrets row holding the signing key when
// SESSION_SECRET is not configured.
const sessionSecretName = "session_signing_key"

// secretStore keeps the generated signing key where every instance finds it.
type secretStore interface {
	AppSecret(ctx context.Context, name string, candidate []byte) ([]byte, error)
}

// Sessions issues console session cookies and signs CSRF tokens and device
// cookies. A session cookie is a random token; the database keeps only its
// hash, with the user (db.SessionByToken), so every instance accepts a
// cookie another issued and sees an ended session, a disabled user or a new
// role at the next request. Signatures are HMACs under a key shared by the
// instances: SESSION_SECRET, or else a random key generated once and kept
// in the database. The key is never derived from a password: a token signed
// with it would let anyone test password guesses offline.
type Sessions struct {
	store    secretStore
	secure   bool          // Secure cookies, when BASE_URL is https
	checking chan struct{} // bounds concurrent password checks
	cost     int           // bcrypt cost of new hashes

	dummyOnce sync.Once
	dummy     []byte // a hash of nothing anyone can type, at cost

	mu  sync.Mutex
	key []byte // from SESSION_SECRET, or loaded from store on first use
}

func NewSessions(cfg Config, store secretStore) *Sessions {
	s := &Sessions{store: store, secure: strings.HasPrefix(cfg.BaseURL, "https://"), checking: make(chan struct{}, 2),
		cost: cfg.BcryptCost}
	if s.cost == 0 {
		s.cost = bcrypt.DefaultCost
	}
	if cfg.SessionSecret != "" {
		key := sha256.Sum256([]byte(cfg.SessionSecret))
		s.key = key[:]
	}
	return s
}

// signingKey returns the key, reading (or, on the very first boot of the
// database, creating) the shared one on first use. A failure is not
// remembered: the next request tries again.
func (s *Sessions) signingKey(ctx context.Context) ([]byte, error) {
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

// CheckPassword compares password with a stored bcrypt hash; an empty hash
// (an unknown user, or one who never set a password) is compared with a
// dummy so the answer takes as long either way. bcrypt costs tens of
// milliseconds of CPU: a few checks at a time, so a flood of sign-ins
// cannot occupy every core.
func (s *Sessions) CheckPassword(hash, password string) bool {
	s.checking <- struct{}{}
	defer func() { <-s.checking }()
	if hash == "" {
		s.dummyOnce.Do(func() { s.dummy, _ = bcrypt.GenerateFromPassword([]byte("\x00no user\x00"), s.cost) })
		bcrypt.CompareHashAndPassword(s.dummy, []byte(password))
		return false
	}
	return bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) == nil
}

// IsBcrypt reports whether s looks like a bcrypt hash.
func IsBcrypt(s string) bool {
	return len(s) == 60 && (strings.HasPrefix(s, "$2a$") || strings.HasPrefix(s, "$2b$") || strings.HasPrefix(s, "$2y$"))
}

// Hash hashes a password for users.password_hash, at the configured cost.
func (s *Sessions) Hash(password string) (string, error) {
	b, err := bcrypt.GenerateFromPassword([]byte(password), s.cost)
	return string(b), err
}

// Sign returns the HMAC of payload under the shared key.
func (s *Sessions) Sign(ctx context.Context, payload string) (string, error) {
	key, err := s.signingKey(ctx)
	if err != nil {
		return "", err
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(payload))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)), nil
}

// Session is the live console session of a request.
type Session struct {
	ID        int64 // user_sessions.id, shown on the Account page
	TokenHash []byte
	User      db.SessionUser
}

// Issue returns a new session token and its cookie.
func (s *Sessions) Issue() (token string, cookie *http.Cookie) {
	var b [32]byte
	rand.Read(b[:])
	token = base64.RawURLEncoding.EncodeToString(b[:])
	return token, s.Cookie(SessionCookie, token, int(SessionTTL.Seconds()))
}

// CSRFToken is the form token for a signed-in session (bound to its id, so
// it changes at every sign-in and no other cookie can stand in for it) or,
// before sign-in, for the browser's anonymous CSRF cookie (signed double
// submit: a forged form cannot know it without reading our cookie).
func (s *Sessions) CSRFToken(ctx context.Context, sess *Session, anonCookie string) (string, error) {
	if sess != nil {
		return s.Sign(ctx, "csrf:session:"+strconv.FormatInt(sess.ID, 10))
	}
	return s.Sign(ctx, "csrf:anonymous:"+anonCookie)
}

func (s *Sessions) NewCSRFCookie() *http.Cookie {
	var b [32]byte
	rand.Read(b[:])
	return s.Cookie(CSRFCookie, base64.RawURLEncoding.EncodeToString(b[:]), 0)
}

// Cookie is an HttpOnly, SameSite=Lax cookie (Secure under https).
func (s *Sessions) Cookie(name, value string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode}
}

// Expired returns a cookie that deletes name.
func (s *Sessions) Expired(name string) *http.Cookie {
	c := s.Cookie(name, "", -1)
	c.Expires = time.Unix(0, 0)
	return c
}
