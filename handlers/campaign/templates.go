package campaign

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"
)

// Templates: the SMS texts a marketer previews, one template per variant,
// with {name}, {city} and {url} placeholders filled in a single pass.
// Templates are plain text, never text/template, so nothing in a business's
// name or an operator's template can run code or reach other data.

// Variant keys as the API and the page query accept them, in tab order.
const (
	Friendly     = "friendly"
	Professional = "professional"
	Urgent       = "urgent"
)

// Variants lists every variant key in the order the tabs show them (a new
// slice each call, so no caller can change another's).
func Variants() []string { return []string{Friendly, Professional, Urgent} }

// Known reports whether key names a variant.
func Known(key string) bool { return slices.Contains(Variants(), key) }

// DisplayName is the capitalised tab label of a variant key.
func DisplayName(key string) string {
	if key == "" {
		return ""
	}
	return strings.ToUpper(key[:1]) + key[1:]
}

// DefaultTemplates are the shipped templates (a new map each call). A typical business (a name of about
// 20 characters, a city of about 10, a 30-character short URL) fits one
// 160-septet GSM-7 segment; longer names spill into a second segment, which
// the preview warns about. The URL is followed by a space, never
// punctuation, so handsets do not fold a full stop into the link. Opt-out
// wording is included because carriers require it in marketing texts.
func DefaultTemplates() Templates {
	return Templates{
		Friendly:     "Hi {name}! We made you a free website preview for customers in {city}: {url} Take a look! Reply STOP to opt out",
		Professional: "{name}, your new website preview is ready for review: {url} Made for customers in {city}. Reply STOP to opt out",
		Urgent:       "{name}: your free website preview expires in 48 hours. See it now: {url} Reply STOP to opt out",
	}
}

// Templates maps a variant key to its template.
type Templates map[string]string

// Fields are the values a template's placeholders take.
type Fields struct {
	Name string
	City string
	URL  string
}

// NoCity stands in for {city} when a business has none, so a sentence such
// as "customers in {city}" still reads naturally.
const NoCity = "your area"

// Render fills the template of variant with f. It fails only for a variant
// that has no template.
func (t Templates) Render(variant string, f Fields) (string, error) {
	tmpl, ok := t[variant]
	if !ok {
		return "", fmt.Errorf("campaign: no template for variant %q", variant)
	}
	return Fill(tmpl, f), nil
}

// Fill replaces the placeholders of tmpl. The replacement is one pass over
// the template, so a business called "{url}" stays literally "{url}".
func Fill(tmpl string, f Fields) string {
	city := strings.TrimSpace(f.City)
	if city == "" {
		city = NoCity
	}
	return strings.NewReplacer("{name}", strings.TrimSpace(f.Name), "{city}", city, "{url}", f.URL).Replace(tmpl)
}

// placeholder matches anything that looks like a placeholder, so a typo
// such as {nmae} is caught when the template is configured, not after a
// thousand messages went out with it.
var placeholder = regexp.MustCompile(`\{[a-z_]+\}`)

// MaxTemplateLength bounds a template, in characters; the database refuses
// longer ones too.
const MaxTemplateLength = 1000

// Validate checks an operator-supplied template: it must contain {url} (a
// preview without the link is pointless), no unknown placeholder (all of
// them are named, so one fix settles it) and at most MaxTemplateLength
// characters.
func Validate(tmpl string) error {
	if strings.TrimSpace(tmpl) == "" {
		return fmt.Errorf("template is empty")
	}
	if n := utf8.RuneCountInString(tmpl); n > MaxTemplateLength {
		return fmt.Errorf("template is %d characters long; at most %d are allowed", n, MaxTemplateLength)
	}
	var unknown []string
	for _, p := range placeholder.FindAllString(tmpl, -1) {
		if p != "{name}" && p != "{city}" && p != "{url}" && !slices.Contains(unknown, p) {
			unknown = append(unknown, p)
		}
	}
	switch {
	case len(unknown) == 1:
		return fmt.Errorf("unknown placeholder %s (use {name}, {city} or {url})", unknown[0])
	case len(unknown) > 1:
		return fmt.Errorf("unknown placeholders %s (use {name}, {city} or {url})", strings.Join(unknown, ", "))
	}
	if !strings.Contains(tmpl, "{url}") {
		return fmt.Errorf("template must contain {url}")
	}
	return nil
}

// WithOverrides returns the defaults with every non-empty override applied,
// after validating it.
func WithOverrides(overrides map[string]string) (Templates, error) {
	out := DefaultTemplates()
	for _, v := range Variants() {
		if o := overrides[v]; o != "" {
			if err := Validate(o); err != nil {
				return nil, fmt.Errorf("%s template: %w", v, err)
			}
			out[v] = o
		}
	}
	return out, nil
}
