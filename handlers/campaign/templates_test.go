package campaign

import (
	"strings"
	"testing"
)

func TestFillIsOnePass(t *testing.T) {
	got := Fill("{name} in {city}: {url}", Fields{Name: "{url} Shop", City: "{name}", URL: "https://s.example/a"})
	if want := "{url} Shop in {name}: https://s.example/a"; got != want {
		t.Errorf("Fill = %q, want %q (values must not be expanded again)", got, want)
	}
	if got := Fill("near {city}", Fields{City: "  "}); got != "near "+NoCity {
		t.Errorf("blank city: %q", got)
	}
}

// A typical business fits one GSM-7 segment in every shipped variant, and
// every variant carries the link and the opt-out.
func TestDefaultsFitOneSegment(t *testing.T) {
	f := Fields{Name: "Golden Crust Pizzeria", City: "Sacramento", URL: "https://sl.example.com/Ab3dE9"}
	for _, v := range Variants() {
		msg, err := DefaultTemplates().Render(v, f)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(msg, f.URL+" ") || !strings.Contains(msg, "STOP") {
			t.Errorf("%s: %q lacks the URL followed by a space or the opt-out", v, msg)
		}
		if r := Count(msg); r.Encoding != GSM7 || r.Segments != 1 {
			t.Errorf("%s: %q is %d %s segments, want 1 GSM-7", v, msg, r.Segments, r.Encoding)
		}
		if err := Validate(DefaultTemplates()[v]); err != nil {
			t.Errorf("shipped %s template fails validation: %v", v, err)
		}
	}
}

// Without a city the shipped sentences still read naturally.
func TestDefaultsWithoutCity(t *testing.T) {
	for _, v := range Variants() {
		msg, _ := DefaultTemplates().Render(v, Fields{Name: "Rosa's Bakery", URL: "https://sl.example.com/Ab3dE9"})
		if strings.Contains(DefaultTemplates()[v], "{city}") && !strings.Contains(msg, "customers in your area") {
			t.Errorf("%s without a city: %q", v, msg)
		}
	}
}

func TestValidate(t *testing.T) {
	for tmpl, ok := range map[string]bool{
		"Hi {name}: {url}":             true,
		"Deal {url} {{ curly }} €5":    true,
		"":                             false,
		"Hi {name}":                    false,
		"Hi {nmae}: {url}":             false,
		"Hi {name}, {url}, {business}": false,
	} {
		if err := Validate(tmpl); (err == nil) != ok {
			t.Errorf("Validate(%q) = %v, want ok=%v", tmpl, err, ok)
		}
	}
	// Every unknown placeholder is named at once, so one edit fixes them all.
	err := Validate("Hi {nmae} in {cty}: {link}")
	if err == nil || !strings.Contains(err.Error(), "{nmae}, {cty}, {link}") {
		t.Errorf("three unknown placeholders: %v, want all three named", err)
	}
	if err := Validate(strings.Repeat("x", MaxTemplateLength) + "{url}"); err == nil {
		t.Error("a template over the length limit was accepted")
	}
	ts, err := WithOverrides(map[string]string{Urgent: "Last call {name}: {url}"})
	if err != nil || ts[Urgent] != "Last call {name}: {url}" || ts[Friendly] != DefaultTemplates()[Friendly] {
		t.Errorf("WithOverrides: %v %v", ts, err)
	}
	if _, err := WithOverrides(map[string]string{Friendly: "no link"}); err == nil {
		t.Error("override without {url} accepted")
	}
}

func TestDisplayName(t *testing.T) {
	if DisplayName(Professional) != "Professional" || !Known(Urgent) || Known("Urgent") || Known("") {
		t.Error("variant names")
	}
}
