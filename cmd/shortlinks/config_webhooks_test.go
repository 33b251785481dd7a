package main

import (
	"strings"
	"testing"
)

func TestWebhookConfig(t *testing.T) {
	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	c, err := parseConfig(t, "-webhook-urls", "https://crm.example.com/a, https://erp.example.com/b", "-webhook-secret", secret)
	if err != nil {
		t.Fatal(err)
	}
	if wh := c.handlersConfig().Webhooks; len(wh.URLs) != 2 || len(wh.Secret) != 24 || wh.AllowPrivate {
		t.Errorf("parsed: %+v", wh)
	}
	if c, err := parseConfig(t); err != nil || len(c.handlersConfig().Webhooks.URLs) != 0 {
		t.Errorf("no webhooks by default: %v", err)
	}
	if _, err := parseConfig(t, "-webhook-urls", "http://127.0.0.1:9000/", "-webhook-secret", secret, "-webhook-allow-private"); err != nil {
		t.Errorf("private URL with the flag: %v", err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-webhook-urls", "https://crm.example.com/"}, "WEBHOOK_SECRET is empty"},
		{[]string{"-webhook-secret", secret}, "WEBHOOK_URLS is empty"},
		{[]string{"-webhook-urls", "https://crm.example.com/", "-webhook-secret", "hunter2"}, `must start with "whsec_"`},
		{[]string{"-webhook-urls", "https://crm.example.com/", "-webhook-secret", "whsec_%%%"}, "not valid base64"},
		{[]string{"-webhook-urls", "https://crm.example.com/", "-webhook-secret", "whsec_c2hvcnQ="}, "24 to 64 bytes"},
		{[]string{"-webhook-urls", "http://127.0.0.1:9000/", "-webhook-secret", secret}, "WEBHOOK_ALLOW_PRIVATE"},
		{[]string{"-webhook-urls", "crm.example.com", "-webhook-secret", secret}, "not an absolute http"},
	} {
		_, err := parseConfig(t, tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: err %v, want one saying %q", tc.args, err, tc.want)
		}
	}
}
