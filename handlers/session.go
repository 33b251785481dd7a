package handlers

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// Cookie names of the admin console.
const (
	sessionCookie = "shortlinks_session"
	csrfCookie    = "shortlinks_csrf"
	sessionTTL    = 12 * time.Hour
)

// sessions signs and checks admin session cookies and CSRF tokens. Sessions
// are stateless (user and expiry, signed with HMAC-SHA256), so any instance
// behind a load balancer accepts a cookie another one issued, as long as
// they share the secret.
type sessions struct {
	key      []byte
	user     string
	password string        // plain text or a bcrypt hash
	secure   bool          // Secure cookies, when BASE_URL is https
	checking chan struct{} // bounds concurrent credential checks
}

func newSessions(cfg Config) *sessions {
	secret := cfg.SessionSecret
	if secret == "" {
		// Derived from the credentials: identical on every instance with the
		// same configuration, and changing the password ends all sessions.
		secret = "shortlinks-session\x00" + cfg.AdminUser + "\x00" + cfg.AdminPassword
	}
	key := sha256.Sum256([]byte(secret))
	return &sessions{key: key[:], user: cfg.AdminUser, password: cfg.AdminPassword,
		secure: strings.HasPrefix(cfg.BaseURL, "https://"), checking: make(chan struct{}, 2)}
}

// enabled reports whether an admin password is configured at all.
func (s *sessions) enabled() bool { return s.password != "" }

// checkCredentials compares in constant time (hashes of equal length, and
// both comparisons always run) or through bcrypt when a hash is configured.
func (s *sessions) checkCredentials(user, password string) bool {
	if !s.enabled() {
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

func (s *sessions) sign(payload string) string {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(payload))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// session is what a valid session cookie says.
type session struct {
	id      string // random, so one sign-out revokes exactly this cookie
	expires time.Time
}

// issue returns a session cookie for the admin user.
func (s *sessions) issue(now time.Time) *http.Cookie {
	var id [12]byte
	rand.Read(id[:])
	claims := s.user + "|" + strconv.FormatInt(now.Add(sessionTTL).Unix(), 10) + "|" + base64.RawURLEncoding.EncodeToString(id[:])
	payload := base64.RawURLEncoding.EncodeToString([]byte(claims))
	return s.cookie(sessionCookie, payload+"."+s.sign("session:"+payload), int(sessionTTL.Seconds()))
}

// parse checks a session cookie's signature, user and expiry. Whether it
// was revoked is the store's to say (see requireSession).
func (s *sessions) parse(value string, now time.Time) (session, bool) {
	if !s.enabled() {
		// Without a password the derived key is public knowledge: no
		// cookie can be trusted, whoever signed it.
		return session{}, false
	}
	payload, sig, ok := strings.Cut(value, ".")
	if !ok || !hmac.Equal([]byte(sig), []byte(s.sign("session:"+payload))) {
		return session{}, false
	}
	raw, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return session{}, false
	}
	parts := strings.Split(string(raw), "|")
	if len(parts) != 3 || parts[0] != s.user || parts[2] == "" {
		return session{}, false
	}
	expiry, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil || now.Unix() >= expiry {
		return session{}, false
	}
	return session{id: parts[2], expires: time.Unix(expiry, 0)}, true
}

// csrfToken is the form token for a CSRF cookie value (signed double
// submit: a forged form cannot know it without reading our cookie).
func (s *sessions) csrfToken(cookieValue string) string { return s.sign("csrf:" + cookieValue) }

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
