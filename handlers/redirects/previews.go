package redirects

import (
	"bytes"
	"hash/maphash"
	"strings"
	"sync/atomic"
)

// previewAgents are lower-case fragments of the User-Agent of link-preview
// fetchers: the robots that messaging and social apps send to draw a card
// for a link when it is received or pasted, before (or without) anyone
// tapping it. SMS apps do this for every recipient, so counting them as
// clicks would inflate every campaign. Fragments are chosen so that the
// same apps' in-app browsers, which a person's tap does open, do not match
// (Snapchat's browser says "Snapchat", its previewer "Snap URL Preview").
var previewAgents = []string{
	"facebookexternalhit", // Facebook, Messenger, Instagram; iMessage sends it too
	"facebot",
	"twitterbot",  // Twitter/X; also in iMessage's and Telegram's agents
	"whatsapp",    // WhatsApp/2.23.x
	"telegrambot", // TelegramBot (like TwitterBot)
	"slackbot",    // Slackbot-LinkExpanding 1.0
	"slack-imgproxy",
	"discordbot",
	"linkedinbot",
	"skypeuripreview", // Skype, and Teams' older previewer
	"microsoftpreview",
	"bingpreview",
	"google-pagerenderer",                 // Google's previewer (Google Chat, Docs)
	"developers.google.com/+/web/snippet", // Google's snippet fetcher
	"googlebot",
	"applebot",
	"pinterestbot",
	"redditbot",
	"embedly",
	"iframely",
	"vkshare",
	"snap url preview",
	"line-poker", // LINE
	"kakaotalk-scrap",
	"mastodon",
	"cardyb", // Bluesky
}

// previewPatterns are previewAgents as bytes, converted once.
var previewPatterns = func() [][]byte {
	out := make([][]byte, len(previewAgents))
	for i, a := range previewAgents {
		out[i] = []byte(a)
	}
	return out
}()

// maxAgentScan bounds the work for absurd User-Agent headers; every known
// previewer names itself well within it.
const maxAgentScan = 512

// IsPreviewer reports whether userAgent belongs to a link-preview fetcher.
// It lower-cases into a stack buffer, so the check does not allocate.
func IsPreviewer(userAgent string) bool {
	var buf [maxAgentScan]byte
	n := copy(buf[:], userAgent)
	for i := range n {
		if c := buf[i]; 'A' <= c && c <= 'Z' {
			buf[i] = c + ('a' - 'A')
		}
	}
	ua := buf[:n]
	for _, p := range previewPatterns {
		if bytes.Contains(ua, p) {
			return true
		}
	}
	return false
}

// agentVerdicts remembers IsPreviewer's answer for recently seen agents.
// Taps come from a modest number of distinct User-Agents (browsers freeze
// most of theirs), so the scan, the costliest step of a cached redirect,
// runs about once per agent rather than once per tap. It is direct-mapped:
// an agent whose slot is taken replaces the occupant, so memory is fixed
// and reads take no lock.
type agentVerdicts struct {
	seed  maphash.Seed
	slots [agentSlots]atomic.Pointer[agentVerdict]
}

// agentSlots is a power of two; at most maxAgentScan bytes per slot.
const agentSlots = 512

type agentVerdict struct {
	agent   string
	preview bool
}

func newAgentVerdicts() *agentVerdicts { return &agentVerdicts{seed: maphash.MakeSeed()} }

func (v *agentVerdicts) isPreviewer(userAgent string) bool {
	if len(userAgent) > maxAgentScan {
		return IsPreviewer(userAgent)
	}
	slot := &v.slots[maphash.String(v.seed, userAgent)&(agentSlots-1)]
	if p := slot.Load(); p != nil && p.agent == userAgent {
		return p.preview
	}
	preview := IsPreviewer(userAgent)
	// Cloned: the header's string would otherwise pin the request's memory.
	slot.Store(&agentVerdict{agent: strings.Clone(userAgent), preview: preview})
	return preview
}

// IsPrefetch reports whether a request announces itself as a prefetch or
// prerender rather than a person's tap: Sec-Purpose (Chromium's
// speculation rules: "prefetch", "prefetch;prerender", possibly with more
// parameters), Purpose: prefetch (older Chromium), X-Moz: prefetch
// (Firefox) and X-Purpose: preview (Safari's top sites). h is read as a
// plain map with canonical keys, so the check costs four lookups.
func IsPrefetch(h map[string][]string) bool {
	return firstTokenIs(h["Sec-Purpose"], "prefetch") || firstTokenIs(h["Purpose"], "prefetch") ||
		firstTokenIs(h["X-Moz"], "prefetch") || firstTokenIs(h["X-Purpose"], "preview")
}

// firstTokenIs reports whether any value's first token (before ';' or
// ',', spaces trimmed) is want, ignoring case.
func firstTokenIs(values []string, want string) bool {
	for _, v := range values {
		if i := strings.IndexAny(v, ";,"); i >= 0 {
			v = v[:i]
		}
		if strings.EqualFold(strings.TrimSpace(v), want) {
			return true
		}
	}
	return false
}
