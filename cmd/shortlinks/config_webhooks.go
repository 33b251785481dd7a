package main

import (
	"errors"
	"flag"
	"fmt"
	"strconv"
	"time"

	"github.com/shortlinks/shortlinks/handlers/webhooks"
)

// webhookConfig is the click webhooks' settings. Every instance sharing a
// database should have the same ones: the endpoints are written to the
// database at start-up, and any instance's worker may send any event.
type webhookConfig struct {
	URLs         string
	Secret       string
	AllowPrivate bool
	Overlap      time.Duration

	opts webhooks.Options // parsed by validate
}

// register binds WEBHOOK_URLS, WEBHOOK_SECRET, WEBHOOK_ALLOW_PRIVATE and
// WEBHOOK_SECRET_OVERLAP.
func (w *webhookConfig) register(fs *flag.FlagSet, str func(p *string, env, def, usage string), errs *[]error) {
	str(&w.URLs, "WEBHOOK_URLS", "", "comma-separated URLs that receive link.clicked, link.created, link.deactivated and send.recorded webhooks")
	str(&w.Secret, "WEBHOOK_SECRET", "", "Standard Webhooks signing secret, whsec_ followed by base64 of 24 to 64 random bytes")
	fs.BoolVar(&w.AllowPrivate, "webhook-allow-private", envParse("WEBHOOK_ALLOW_PRIVATE", false, strconv.ParseBool, errs),
		"let webhooks reach loopback, private and link-local addresses (WEBHOOK_ALLOW_PRIVATE)")
	fs.DurationVar(&w.Overlap, "webhook-secret-overlap", envParse("WEBHOOK_SECRET_OVERLAP", webhooks.DefaultOverlap, time.ParseDuration, errs),
		"how long an endpoint's rotated-out secret keeps signing beside the new one (WEBHOOK_SECRET_OVERLAP)")
}

// validate parses the settings; an unusable one stops the service at start.
func (w *webhookConfig) validate() error {
	urls := splitList(w.URLs)
	w.opts = webhooks.Options{URLs: urls, AllowPrivate: w.AllowPrivate, RotationOverlap: w.Overlap}
	if w.Overlap < 0 || w.Overlap > 30*24*time.Hour {
		return fmt.Errorf("WEBHOOK_SECRET_OVERLAP must be between 0s and 720h, not %s", w.Overlap)
	}
	if len(urls) == 0 {
		if w.Secret != "" {
			return errors.New("WEBHOOK_SECRET is set but WEBHOOK_URLS is empty: set both to send webhooks")
		}
		return nil
	}
	if w.Secret == "" {
		return errors.New("WEBHOOK_URLS is set but WEBHOOK_SECRET is empty: receivers need it to verify signatures (generate one with: echo \"whsec_$(openssl rand -base64 32)\")")
	}
	secret, err := webhooks.ParseSecret(w.Secret)
	w.opts.Secret = secret
	errs := []error{err}
	for _, u := range urls {
		errs = append(errs, webhooks.CheckURL(u, w.AllowPrivate))
	}
	return errors.Join(errs...)
}
