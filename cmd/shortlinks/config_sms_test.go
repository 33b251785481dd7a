package main

import (
	"flag"
	"strings"
	"testing"
)

func parseConfig(t *testing.T, args ...string) (*config, error) {
	t.Helper()
	var c config
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	c.register(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return &c, c.validate()
}

func TestSMSConfig(t *testing.T) {
	c, err := parseConfig(t)
	if err != nil {
		t.Fatalf("defaults: %v", err)
	}
	hc := c.handlersConfig()
	if hc.SMSRate.PerSegment.String() != "0.0079" || hc.SMSRate.Currency != "USD" || hc.SMSTemplates["urgent"] == "" {
		t.Errorf("default SMS settings: %+v", hc.SMSRate)
	}
	c, err = parseConfig(t, "-sms-segment-cost", "0.05", "-sms-currency", "EUR", "-sms-template-urgent", "Last call {name}: {url}")
	if err != nil || c.handlersConfig().SMSRate.PerSegment.String() != "0.05" || c.handlersConfig().SMSTemplates["urgent"] != "Last call {name}: {url}" {
		t.Errorf("overrides: %v %+v", err, c.SMS)
	}
	for _, args := range [][]string{
		{"-sms-segment-cost", "-0.01"},
		{"-sms-segment-cost", "NaN"},
		{"-sms-segment-cost", "0.00000001"},
		{"-sms-currency", "dollars"},
		{"-sms-template-friendly", "Hi {name}, no link"},
		{"-sms-template-professional", "{nmae}: {url}"},
	} {
		if _, err := parseConfig(t, args...); err == nil || !strings.Contains(err.Error(), "SMS_") {
			t.Errorf("%v: err %v, want a config error naming the setting", args, err)
		}
	}
}
