package web

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// cookie names of the admin console.
const (
	SessionCookie = "shortlinks_session"
	CSRFCookie    = "shortlinks_csrf"
	sessionTTL    = 12 * time.Hour
)

// sessionSecretName is the app_secrets row holding the signing key when
// SESSION_SECRET is not configured.
const sessionSecretName = "session_signing_key"

// secretStore keeps the generated signing key where every instance finds it.
type secretStore interface {
	AppSecret(ctx context.Context, name string, candidate []byte) ([]byte, error)
}

// sessions signs and checks admin session cookies and CSRF tokens. Sessions
// are stateless (user and expiry, signed with HMAC-SHA256), so any instance
// behind a load balancer accepts a cookie another one issued, as long as
// they share the key: SESSION_SECRET, or else a random key generated once
// and kept in the database. The key is never derived from the credentials:
// a token signed with it would let anyone test password guesses offline.
type Sessions struct {
	store    secretStore
	user     string
	password string        // plain text or a bcrypt hash
	secure   bool          // Secure cookies, when BASE_URL is https
	checking chan struct{} // bounds concurrent credential checks
	// credentials is a digest of user and password that session
	// signatures cover, so changing the password ends every session. It
	// is inside the HMAC, keyed by the random key: it tells no one anything.
	credentials string

	mu  sync.Mutex
	key []byte // from SESSION_SECRET, or loaded from store on first use
}

func NewSessions(cfg Config, store secretStore) *Sessions {
	s := &Sessions{store: store, user: cfg.AdminUser, password: cfg.AdminPassword,
		secure: strings.HasPrefix(cfg.BaseURL, "https://"), checking: make(chan struct{}, 2)}
	creds := sha256.Sum256([]byte(cfg.AdminUser + "\x00" + cfg.AdminPassword))
	s.credentials = base64.RawURLEncoding.EncodeToString(creds[:])
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

// Enabled reports whether an admin password is configured at all.
func (s *Sessions) Enabled() bool { return s.password != "" }

// CheckCredentials compares in constant time (hashes of equal length, and
// both comparisons always run) or through bcrypt when a hash is configured.
func (s *Sessions) CheckCredentials(user, password string) bool {
	if !s.Enabled() {
		return false
	}
	// bcrypt costs tens of milliseconds of CPU: a few checks at a time,
	// so a flood of sign-ins cannot occupy every core.
	s.checking <- struct{}{}
	defer func() { <-s.checking }()
	userOK := constantEqual(user, s.user)
	var passOK bool
	if isBcrypt(s.password) {
		passOK = bcrypt.CompareHashAndPassword([]byte(s.password), []byte(password)) == nil
	} else {
		passOK = constantEqual(password, s.password)
	}
	return userOK && passOK
}

func isBcrypt(s string) bool {
	return len(s) == 60 && (strings.HasPrefix(s, "$2a$") || strings.HasPrefix(s, "$2b$") || strings.HasPrefix(s, "$2y$"))
}

func constantEqual(a, b string) bool {
	ha, hb := sha256.Sum256([]byte(a)), sha256.Sum256([]byte(b))
	return subtle.ConstantTimeCompare(ha[:], hb[:]) == 1
}

func (s *Sessions) sign(ctx context.Context, payload string) (string, error) {
	key, err := s.signingKey(ctx)
	if err != nil {
		return "", err
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(payload))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)), nil
}

// session is what a valid session cookie says.
type Session struct {
	ID      string // random, so one sign-out revokes exactly this cookie
	Expires time.Time
}

// Issue returns a session cookie for the admin user.
func (s *Sessions) Issue(ctx context.Context, now time.Time) (*http.Cookie, error) {
	var id [12]byte
	rand.Read(id[:])
	claims := s.user + "|" + strconv.FormatInt(now.Add(sessionTTL).Unix(), 10) + "|" + base64.RawURLEncoding.EncodeToString(id[:])
	payload := base64.RawURLEncoding.EncodeToString([]byte(claims))
	sig, err := s.sign(ctx, "session:"+s.credentials+":"+payload)
	if err != nil {
		return nil, err
	}
	return s.cookie(SessionCookie, payload+"."+sig, int(sessionTTL.Seconds())), nil
}

// Parse checks a session cookie's signature, user and expiry. Whether it
// was revoked is the store's to say (see loadSession).
func (s *Sessions) Parse(ctx context.Context, value string, now time.Time) (Session, bool, error) {
	if !s.Enabled() {
		// Nobody can sign in, so no cookie is trusted, whoever signed it.
		return Session{}, false, nil
	}
	payload, sig, ok := strings.Cut(value, ".")
	if !ok {
		return Session{}, false, nil
	}
	want, err := s.sign(ctx, "session:"+s.credentials+":"+payload)
	if err != nil {
		return Session{}, false, err
	}
	if !hmac.Equal([]byte(sig), []byte(want)) {
		return Session{}, false, nil
	}
	sess, ok := s.claims(payload, now)
	return sess, ok, nil
}

// claims reads a signed payload: user, expiry and session id.
func (s *Sessions) claims(payload string, now time.Time) (Session, bool) {
	raw, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return Session{}, false
	}
	parts := strings.Split(string(raw), "|")
	if len(parts) != 3 || parts[0] != s.user || parts[2] == "" {
		return Session{}, false
	}
	expiry, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil || now.Unix() >= expiry {
		return Session{}, false
	}
	return Session{ID: parts[2], Expires: time.Unix(expiry, 0)}, true
}

// CSRFToken is the form token for a signed-in session (bound to its id, so
// it changes at every sign-in and no other cookie can stand in for it) or,
// before sign-in, for the browser's anonymous CSRF cookie (signed double
// submit: a forged form cannot know it without reading our cookie).
func (s *Sessions) CSRFToken(ctx context.Context, sess *Session, anonCookie string) (string, error) {
	if sess != nil {
		return s.sign(ctx, "csrf:session:"+sess.ID)
	}
	return s.sign(ctx, "csrf:anonymous:"+anonCookie)
}

func (s *Sessions) NewCSRFCookie() *http.Cookie {
	var b [32]byte
	rand.Read(b[:])
	return s.cookie(CSRFCookie, base64.RawURLEncoding.EncodeToString(b[:]), 0)
}

func (s *Sessions) cookie(name, value string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode}
}

// Expired returns a cookie that deletes name.
func (s *Sessions) Expired(name string) *http.Cookie {
	c := s.cookie(name, "", -1)
	c.Expires = time.Unix(0, 0)
	return c
}
