package main

import (
	"fmt"
	"strings"

	"github.com/shortlinks/shortlinks/handlers/phone"
)

// outreachConfig is the outreach settings: the region of phone numbers
// written without a country code.
type outreachConfig struct {
	PhoneRegion string
}

// register binds PHONE_DEFAULT_REGION.
func (o *outreachConfig) register(str func(p *string, env, def, usage string)) {
	str(&o.PhoneRegion, "PHONE_DEFAULT_REGION", phone.DefaultRegion, "region (ISO 3166 two letters) of phone numbers entered without a +country code")
}

// validate refuses a region the phone library does not know.
func (o *outreachConfig) validate() error {
	o.PhoneRegion = strings.ToUpper(strings.TrimSpace(o.PhoneRegion))
	if !phone.ValidRegion(o.PhoneRegion) {
		return fmt.Errorf("PHONE_DEFAULT_REGION %q is not a region code such as US, GB or DE", o.PhoneRegion)
	}
	return nil
}
