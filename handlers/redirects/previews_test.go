package redirects

import (
	"fmt"
	"strings"
	"testing"
)

func TestIsPreviewer(t *testing.T) {
	tests := []struct {
		ua      string
		preview bool
	}{
		{"facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)", true},
		{"facebookexternalhit/1.1", true},
		{"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_11_1) AppleWebKit/601.2.4 (KHTML, like Gecko) Version/9.0.1 Safari/601.2.4 facebookexternalhit/1.1 Facebot Twitterbot/1.0", true}, // iMessage
		{"WhatsApp/2.23.20.0 A", true},
		{"TelegramBot (like TwitterBot)", true},
		{"Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)", true},
		{"Slack-ImgProxy (+https://api.slack.com/robots)", true},
		{"Twitterbot/1.0", true},
		{"Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)", true},
		{"LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)", true},
		{"Mozilla/5.0 (Windows NT 6.1; WOW64) SkypeUriPreview Preview/0.5 skype-url-preview@microsoft.com", true},
		{"Mozilla/5.0 (Windows NT 6.1; rv:6.0) Gecko/20110814 Firefox/6.0 Google (+https://developers.google.com/+/web/snippet/)", true},
		{"Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", true},
		{"Mozilla/5.0 (compatible; Google-PageRenderer Google (+https://developers.google.com/+/web/snippet/))", true},
		{"Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1", false},
		{"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36", false},
		{"Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 [FBAN/FBIOS;FBAV/458.0]", false}, // Facebook's in-app browser: a person
		{"Mozilla/5.0 (Linux; Android 13; SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Mobile Safari/537.36 Snapchat/12.80.0.40 (like Safari/604.1)", false},
		{"curl/8.5.0", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := IsPreviewer(tt.ua); got != tt.preview {
			t.Errorf("IsPreviewer(%q) = %v, want %v", tt.ua, got, tt.preview)
		}
	}
}

func BenchmarkIsPreviewer(b *testing.B) {
	ua := "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"
	b.ReportAllocs()
	for b.Loop() {
		IsPreviewer(ua)
	}
}

// The remembered verdicts agree with the scan, including after agents
// evict each other from their slots.
func TestAgentVerdictsAgreeWithTheScan(t *testing.T) {
	v := newAgentVerdicts()
	agents := []string{"Twitterbot/1.0", "curl/8.5.0", "WhatsApp/2.23.20.0 A", strings.Repeat("x", maxAgentScan+1) + "slackbot"}
	for i := range 3 * agentSlots {
		agents = append(agents, fmt.Sprintf("Mozilla/5.0 (agent %d)", i))
	}
	for range 2 {
		for _, a := range agents {
			if got, want := v.isPreviewer(a), IsPreviewer(a); got != want {
				t.Fatalf("%.40q: remembered %v, scan says %v", a, got, want)
			}
		}
	}
}
