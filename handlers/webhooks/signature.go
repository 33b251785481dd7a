// Package webhooks delivers the events that the database queues in
// webhook_deliveries to the configured endpoints, signed the Standard
// Webhooks way. It runs beside the server, never on a request's path: the
// events are written by the statements that change links and counts (see
// db/webhooks.go), and a worker pool here sends them, at least once.
package webhooks

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// secretPrefix marks a Standard Webhooks symmetric secret.
const secretPrefix = "whsec_"

// Secret is the HMAC-SHA256 key the signatures are made with.
type Secret []byte

// ParseSecret decodes a "whsec_<base64>" secret, which Standard Webhooks
// wants between 24 and 64 random bytes.
func ParseSecret(s string) (Secret, error) {
	b64, ok := strings.CutPrefix(s, secretPrefix)
	if !ok {
		return nil, errors.New(`WEBHOOK_SECRET must start with "whsec_" followed by base64 (for example: echo "whsec_$(openssl rand -base64 32)")`)
	}
	key, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, errors.New("WEBHOOK_SECRET: the part after whsec_ is not valid base64")
	}
	if len(key) < 24 || len(key) > 64 {
		return nil, fmt.Errorf("WEBHOOK_SECRET must hold 24 to 64 bytes after base64 decoding, not %d", len(key))
	}
	return key, nil
}

// Sign returns the webhook-signature header value for one attempt:
// "v1," and the base64 HMAC-SHA256 of "id.timestamp.body".
func (s Secret) Sign(id string, timestamp int64, body []byte) string {
	mac := hmac.New(sha256.New, s)
	mac.Write([]byte(id))
	mac.Write([]byte{'.'})
	mac.Write(strconv.AppendInt(nil, timestamp, 10))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// Signatures returns the webhook-signature header value signed with every
// secret, space-separated, as Standard Webhooks allows while a secret is
// being rotated: a receiver accepts the delivery when any one verifies.
func Signatures(id string, timestamp int64, body []byte, secrets ...Secret) string {
	sigs := make([]string, 0, len(secrets))
	for _, s := range secrets {
		sigs = append(sigs, s.Sign(id, timestamp, body))
	}
	return strings.Join(sigs, " ")
}

// NewSecret generates an endpoint's secret: whsec_ and the base64 of 32
// random bytes.
func NewSecret() string {
	var key [32]byte
	rand.Read(key[:])
	return secretPrefix + base64.StdEncoding.EncodeToString(key[:])
}
