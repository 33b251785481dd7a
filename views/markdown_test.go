package views

import (
	"context"
	"strings"
	"testing"
)

func render(t *testing.T, src string) string {
	t.Helper()
	var b strings.Builder
	if err := Markdown(src).Render(context.Background(), &b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// Descriptions read as formatted text, never as raw backticks, and nothing
// in one can add script to the page.
func TestMarkdown(t *testing.T) {
	for src, want := range map[string]string{
		"Set `API_TOKEN_RATE_LIMIT`.":        "Set <code>API_TOKEN_RATE_LIMIT</code>.",
		"**Only** admins":                    "<strong>Only</strong> admins",
		"See [the docs](https://x.example/)": `See <a href="https://x.example/">the docs</a>`,
		"One.\n\nTwo.":                       "<p>One.</p>\n<p>Two.</p>",
		"- a\n- b":                           "<ul>\n<li>a</li>\n<li>b</li>\n</ul>",
		"<script>alert(1)</script>":          "<!-- raw HTML omitted -->",
		"[x](javascript:alert(1))":           `<a href="">x</a>`,
		"":                                   "",
	} {
		if got := render(t, src); got != want {
			t.Errorf("Markdown(%q) = %q, want %q", src, got, want)
		}
	}
}
