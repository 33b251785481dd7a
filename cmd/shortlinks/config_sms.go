package main

import (
	"fmt"
	"strings"

	"github.com/shortlinks/shortlinks/handlers/campaign"
)

// smsConfig is the campaign preview's settings: the price of a segment and
// optional replacements for the shipped message templates.
type smsConfig struct {
	SegmentCost string
	Currency    string
	Templates   map[string]*string // variant → template; empty keeps the default

	// Parsed by validate.
	rate      campaign.Rate
	templates campaign.Templates
}

// register binds SMS_SEGMENT_COST, SMS_CURRENCY and SMS_TEMPLATE_<VARIANT>.
func (s *smsConfig) register(str func(p *string, env, def, usage string)) {
	str(&s.SegmentCost, "SMS_SEGMENT_COST", campaign.DefaultRate().PerSegment.String(), "price of one SMS segment, a decimal with at most 6 places")
	str(&s.Currency, "SMS_CURRENCY", campaign.DefaultRate().Currency, "ISO 4217 currency of SMS_SEGMENT_COST")
	s.Templates = map[string]*string{}
	for _, v := range campaign.Variants() {
		s.Templates[v] = new(string)
		env := "SMS_TEMPLATE_" + strings.ToUpper(v)
		str(s.Templates[v], env, "", "message template of the "+v+" variant with {name}, {city} and {url} (empty: the shipped default)")
	}
}

// validate parses the settings; an unusable one stops the service at start.
func (s *smsConfig) validate() error {
	rate, err := campaign.ParseRate(s.SegmentCost, s.Currency)
	if err != nil {
		return fmt.Errorf("SMS_SEGMENT_COST/SMS_CURRENCY: %w", err)
	}
	overrides := map[string]string{}
	for v, t := range s.Templates {
		overrides[v] = *t
	}
	templates, err := campaign.WithOverrides(overrides)
	if err != nil {
		return fmt.Errorf("SMS_TEMPLATE_*: %w", err)
	}
	s.rate, s.templates = rate, templates
	return nil
}
