package redirects

import "testing"

func TestLocationIsASCII(t *testing.T) {
	for in, want := range map[string]string{
		"https://example.com/a?b=c#d":         "https://example.com/a?b=c#d",
		"https://xn--bcher-kva.de/Straße?q=Ä": "https://xn--bcher-kva.de/Stra%C3%9Fe?q=%C3%84",
		"https://example.com/%C3%9F/ß":        "https://example.com/%C3%9F/%C3%9F",
		"https://example.com/😀":               "https://example.com/%F0%9F%98%80",
	} {
		if got := asciiLocation(in); got != want {
			t.Errorf("asciiLocation(%q) = %q, want %q", in, got, want)
		}
	}
}
