package web

import (
	"crypto/sha256"
	"encoding/json"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/shortlinks/shortlinks/db"
	"github.com/shortlinks/shortlinks/handlers/campaign"
)

// idempotencyHeader names the header that makes a create safe to retry.
const idempotencyHeader = "Idempotency-Key"

// maxIdempotencyKey is the longest key accepted, in bytes.
const maxIdempotencyKey = 255

// idempotency reads the Idempotency-Key header (required or optional) and
// pairs it with the hash of the canonical request: resource names the kind
// of request and canonical is its decoded body, marshalled again so that
// spacing and key order do not matter. The key space is shared by every
// endpoint; the resource in the hash tells their requests apart.
func Idempotency(c echo.Context, required bool, resource string, canonical any) (db.Idempotency, error) {
	values := c.Request().Header.Values(idempotencyHeader)
	switch {
	case len(values) == 0 && !required:
		return db.Idempotency{}, nil
	case len(values) == 0:
		return db.Idempotency{}, Invalid(idempotencyHeader, "the %s header is required: a unique string (1 to %d printable ASCII characters) per intended send, repeated unchanged on retries", idempotencyHeader, maxIdempotencyKey)
	case len(values) > 1:
		return db.Idempotency{}, Invalid(idempotencyHeader, "give the %s header once", idempotencyHeader)
	}
	key := values[0]
	if !ValidIdempotencyKey(key) {
		return db.Idempotency{}, Invalid(idempotencyHeader, "%s must be 1 to %d printable ASCII characters", idempotencyHeader, maxIdempotencyKey)
	}
	return db.Idempotency{Key: key, RequestHash: requestHash(resource, canonical)}, nil
}

// idempotencyOf pairs a (validated) key with a send request's hash.
func IdempotencyOf(key string, req campaign.Request) db.Idempotency {
	return db.Idempotency{Key: key, RequestHash: requestHash(db.ResourceSend, req)}
}

// requestHash is the SHA-256 of a request's kind and canonical body.
func requestHash(resource string, canonical any) []byte {
	body, err := json.Marshal(canonical)
	if err != nil { // plain structs of strings: cannot happen
		panic("handlers: canonical request: " + err.Error())
	}
	sum := sha256.Sum256(append([]byte(resource+"\n"), body...))
	return sum[:]
}

// validIdempotencyKey: 1 to 255 bytes, each printable ASCII (space to ~);
// the same rule as the CHECK on idempotency_keys.key.
func ValidIdempotencyKey(k string) bool {
	if k == "" || len(k) > maxIdempotencyKey {
		return false
	}
	for i := 0; i < len(k); i++ {
		if k[i] < 0x20 || k[i] > 0x7e {
			return false
		}
	}
	return true
}

// errKeyReused is the answer to a key repeated with a different request.
var errKeyReused = &APIError{Status: http.StatusUnprocessableEntity, Code: "idempotency_key_reused", Field: idempotencyHeader,
	Message: "this Idempotency-Key was already used with a different request; use a new key for a new request"}
