package access

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"strings"
)

// Prefixes of the secrets handed out, so a leaked one is recognisable
// (secret scanners, logs) and the two kinds cannot be confused.
const (
	KeyPrefix    = "slk_"
	InvitePrefix = "sli_"
)

// NewSecret returns a random secret with prefix: 32 bytes from the system's
// CSPRNG, base64url. Only its Hash is ever stored.
func NewSecret(prefix string) string {
	var b [32]byte
	rand.Read(b[:])
	return prefix + base64.RawURLEncoding.EncodeToString(b[:])
}

// Hash is the stored form of a secret. SHA-256 without salt suffices: the
// secret has 256 random bits, so there is nothing to guess or precompute,
// and a lookup by hash stays one index probe.
func Hash(secret string) []byte {
	h := sha256.Sum256([]byte(strings.TrimSpace(secret)))
	return h[:]
}

// Hint is the part of a key shown in lists to tell keys apart: the prefix
// and four characters, far too few to guess the rest.
func Hint(secret string) string {
	if len(secret) < len(KeyPrefix)+4 {
		return ""
	}
	return secret[:len(KeyPrefix)+4] + "…"
}
