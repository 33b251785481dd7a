package webhooks_test

import (
	"strings"
	"testing"

	"github.com/shortlinks/shortlinks/handlers/webhooks"
)

// The signature must match the published Standard Webhooks test vector, so
// that receivers using any of the standard libraries accept it.
func TestSignatureMatchesTheStandardVector(t *testing.T) {
	t.Parallel()
	secret, err := webhooks.ParseSecret(testSecret)
	if err != nil {
		t.Fatal(err)
	}
	got := secret.Sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, []byte(`{"test": 2432232314}`))
	if want := "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="; got != want {
		t.Errorf("signature %s, want %s", got, want)
	}
}

func TestParseSecretRejectsBadSecrets(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ secret, want string }{
		{"MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", `must start with "whsec_"`},
		{"whsec_not base64!", "not valid base64"},
		{"whsec_c2hvcnQ=", "24 to 64 bytes"},
		{"whsec_" + strings.Repeat("QUFB", 22), "24 to 64 bytes"}, // 66 bytes
	} {
		_, err := webhooks.ParseSecret(tc.secret)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseSecret(%q) = %v, want an error saying %q", tc.secret, err, tc.want)
		}
	}
}

func TestCheckURL(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		url          string
		allowPrivate bool
		ok           bool
	}{
		{"https://crm.example.com/hooks/shortlinks", false, true},
		{"http://93.184.216.34:8080/x", false, true},
		{"ftp://crm.example.com/", false, false},
		{"crm.example.com/hooks", false, false},
		{"https://", false, false},
		{"http://127.0.0.1:9000/", false, false},
		{"http://[::1]:9000/", false, false},
		{"http://169.254.169.254/latest/meta-data/", false, false},
		{"http://10.0.0.5/", false, false},
		{"http://localhost:9000/", false, false},
		{"http://localhost:9000/", true, true},
		{"http://10.0.0.5/", true, true},
	} {
		err := webhooks.CheckURL(tc.url, tc.allowPrivate)
		if (err == nil) != tc.ok {
			t.Errorf("CheckURL(%q, allowPrivate=%t) = %v, want ok=%t", tc.url, tc.allowPrivate, err, tc.ok)
		}
		if err != nil && !strings.Contains(err.Error(), "WEBHOOK_URLS") {
			t.Errorf("CheckURL(%q): %v does not name WEBHOOK_URLS", tc.url, err)
		}
	}
}

// During a rotation both signatures go out, space-separated; a receiver
// holding either secret finds the one that verifies.
func TestSignaturesCarryEverySecret(t *testing.T) {
	t.Parallel()
	old, err := webhooks.ParseSecret(testSecret)
	if err != nil {
		t.Fatal(err)
	}
	fresh, err := webhooks.ParseSecret(webhooks.NewSecret())
	if err != nil {
		t.Fatalf("a generated secret does not parse: %v", err)
	}
	body := []byte(`{"type":"link.clicked"}`)
	header := webhooks.Signatures("msg_1", 1700000000, body, fresh, old)
	sigs := strings.Fields(header)
	if len(sigs) != 2 || sigs[0] != fresh.Sign("msg_1", 1700000000, body) || sigs[1] != old.Sign("msg_1", 1700000000, body) {
		t.Errorf("header %q, want the new and the old signature", header)
	}
	if webhooks.NewSecret() == webhooks.NewSecret() {
		t.Error("two generated secrets are equal")
	}
}
