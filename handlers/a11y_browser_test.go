package handlers_test

import (
	"context"
	_ "embed"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// axeSource is axe-core, vendored (see testdata/axe/README.md).
//
//go:embed testdata/axe/axe.min.js
var axeSource string

// The two widths every page is checked at: a laptop and a phone.
const (
	desktopWidth = 1280
	phoneWidth   = 390
)

// pageCheck is one page in one state, checked at both widths.
type pageCheck struct {
	name string
	path string
}

// browserSession is one Chromium tab shared by the checks of a test, with
// every console error and CSP violation it has seen since it opened.
type browserSession struct {
	ctx context.Context

	mu       sync.Mutex
	problems []string
	// axeOnNewDocuments: axe is added to every document the tab opens.
	axeOnNewDocuments bool
}

// newBrowserSession starts Chromium and listens to its console from the
// first page on. Every document reports Content-Security-Policy violations
// to the console (securitypolicyviolation), which Chromium also does on its
// own, so a violation on any navigation, Back and Forward included, is seen.
func newBrowserSession(t *testing.T) *browserSession {
	t.Helper()
	s := &browserSession{ctx: newHeadlessBrowser(t, findChromium(t))}
	_, err := chromedp.Call(s.ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
		Source: `document.addEventListener('securitypolicyviolation', e =>
			console.error('CSP violation: ' + e.violatedDirective + ' blocked ' + (e.blockedURI || 'inline') + ' at ' + location.pathname));`,
	})
	run(t, s.ctx, "listen for CSP violations", err)
	messages := chromedp.Console(s.ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if expectedFailure(m) {
				continue
			}
			if m.Type == "error" || m.IsException() || strings.Contains(m.Text, "Content Security Policy") {
				s.mu.Lock()
				s.problems = append(s.problems, m.String())
				s.mu.Unlock()
			}
		}
	}()
	return s
}

// expectedFailure reports whether m is the browser noting that a page it
// was sent to answered 4xx, as the error-state pages do on purpose. A file
// a page loads (CSS, script, icon) failing is never expected.
func expectedFailure(m chromedp.ConsoleMessage) bool {
	if m.Source != "network" {
		return false
	}
	u, err := url.Parse(m.URL)
	return err == nil && !strings.HasPrefix(u.Path, "/static/") && u.Path != "/favicon.ico"
}

// takeProblems returns the console errors seen since the last call.
func (s *browserSession) takeProblems() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.problems
	s.problems = nil
	return p
}

// open loads path at the given width and waits for the page to be ready.
func (s *browserSession) open(t *testing.T, base, path string, width int64) {
	t.Helper()
	run(t, s.ctx, "open "+path, chromedp.Do(s.ctx,
		chromedp.EmulateViewport(width, 900),
		chromedp.Navigate(base+path),
		chromedp.WaitReady(chromedp.CSS("body")),
	))
}

// axeViolation is one failed axe rule, with a few of the nodes at fault.
type axeViolation struct {
	ID     string   `json:"id"`
	Impact string   `json:"impact"`
	Help   string   `json:"help"`
	Nodes  []string `json:"nodes"`
}

// runAxe checks the page as it is now against WCAG 2.1 A and AA.
const runAxe = `(typeof axe === 'undefined' ? Promise.reject(new Error('axe not loaded')) :
	axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}, resultTypes: ['violations']}))
	.then(r => r.violations.map(v => ({id: v.id, impact: v.impact || '', help: v.help,
		nodes: v.nodes.slice(0, 3).map(n => n.target.join(' ') + ': ' + n.failureSummary.replace(/\s+/g, ' '))})))`

// layoutProblems lists what does not fit a phone: a page wider than the
// screen, and touch targets smaller than 24 × 24 CSS pixels (WCAG 2.5.8).
const layoutProblems = `(() => {
	const out = [];
	const root = document.documentElement;
	const inScrollBox = el => !!el.closest('.table-wrap, .tabs');
	const name = el => (el.id ? '#' + el.id : el.tagName.toLowerCase() + (el.className ? '.' + String(el.className).split(' ')[0] : '')) + ' "' + el.textContent.trim().slice(0, 30) + '"';
	if (root.scrollWidth > root.clientWidth) {
		out.push('the page scrolls sideways: ' + root.scrollWidth + ' px wide in a ' + root.clientWidth + ' px window');
		const wide = [...document.body.querySelectorAll('*')].filter(el => !inScrollBox(el) && el.getBoundingClientRect().right > root.clientWidth + 1);
		for (const el of wide.slice(-3)) out.push('  too wide: ' + name(el) + ' ends at ' + Math.round(el.getBoundingClientRect().right) + ' px');
	}
	for (const el of document.querySelectorAll('.nobreak, .nowrap')) { // text kept on one line must still fit its box
		const box = el.closest('.stat, .card, .status, .warn, main');
		if (!inScrollBox(el) && box && el.getBoundingClientRect().right > box.getBoundingClientRect().right + 1) out.push(name(el) + ' runs out of its box');
	}
	for (const el of document.querySelectorAll('button, a.button, header a, nav a, [role=tab], input:not([type=hidden]), select, textarea')) {
		const r = el.getBoundingClientRect();
		if (r.width === 0 && r.height === 0) continue; // not shown
		if (r.height < 24 || r.width < 24) out.push(name(el) + ' is ' + Math.round(r.width) + '×' + Math.round(r.height) + ' px, under 24 px');
		if (r.right > root.clientWidth + 1 && !inScrollBox(el)) out.push(name(el) + ' sticks out of the window');
	}
	return out;
})()`

// checkPage runs axe on the page at both widths, checks the phone layout,
// and reports console errors (CSP violations included) the page caused.
// The page is loaded once; the width changes under it.
func (s *browserSession) checkPage(t *testing.T, base string, p pageCheck) {
	t.Helper()
	s.open(t, base, p.path, desktopWidth)
	s.checkCurrent(t, p.name)
}

// checkCurrent checks the page the browser shows now, at both widths.
func (s *browserSession) checkCurrent(t *testing.T, name string) {
	t.Helper()
	for _, width := range []int64{desktopWidth, phoneWidth} {
		run(t, s.ctx, "resize", chromedp.Do(s.ctx, chromedp.EmulateViewport(width, 900)))
		for _, v := range s.axe(t) {
			t.Errorf("%s at %d px: axe %s (%s): %s\n\t%s", name, width, v.ID, v.Impact, v.Help, strings.Join(v.Nodes, "\n\t"))
		}
		if width == desktopWidth { // on a laptop, every table fits without scrolling
			wide, err := chromedp.Run(s.ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('.table-wrap')]
				.filter(w => w.scrollWidth > w.clientWidth + 1).map(w => (w.querySelector('table').id || w.querySelector('caption')?.textContent || 'a table') + ' needs ' + w.scrollWidth + ' px in ' + w.clientWidth)`))
			run(t, s.ctx, "measure tables of "+name, err)
			for _, w := range wide {
				t.Errorf("%s at %d px: %s", name, width, w)
			}
		}
		if width == phoneWidth {
			problems, err := chromedp.Run(s.ctx, chromedp.Evaluate[[]string](layoutProblems))
			run(t, s.ctx, "measure "+name, err)
			for _, p := range problems {
				t.Errorf("%s at %d px: %s", name, width, p)
			}
		}
	}
	s.expectNoProblems(t, name)
}

// axe runs axe-core on the page as it is now, injecting it first.
func (s *browserSession) axe(t *testing.T) []axeViolation {
	t.Helper()
	loaded, err := chromedp.Run(s.ctx, chromedp.Evaluate[bool](`typeof axe !== 'undefined'`))
	run(t, s.ctx, "look for axe", err)
	if !loaded {
		_, err := chromedp.Run(s.ctx, chromedp.Evaluate[bool](axeSource+";true"))
		run(t, s.ctx, "inject axe", err)
		// From now on every new document of this tab gets axe as it is
		// created: sending its 550 kB over the DevTools pipe for each
		// page cost about 150 ms of the walk's 30 pages.
		if !s.axeOnNewDocuments {
			_, err = chromedp.Call(s.ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: axeSource})
			run(t, s.ctx, "add axe to new documents", err)
			s.axeOnNewDocuments = true
		}
	}
	violations, err := chromedp.Run(s.ctx, chromedp.Evaluate[[]axeViolation](runAxe, chromedp.EvalAwaitPromise))
	run(t, s.ctx, "run axe", err)
	return violations
}

// expectNoProblems fails the test for console errors seen so far.
func (s *browserSession) expectNoProblems(t *testing.T, when string) {
	t.Helper()
	for _, p := range s.takeProblems() {
		t.Errorf("%s: console: %s", when, p)
	}
}

// signIn signs in through the real form.
func (s *browserSession) signIn(t *testing.T, base string) {
	t.Helper()
	run(t, s.ctx, "sign in", chromedp.Do(s.ctx,
		chromedp.Navigate(base+"/admin/login"),
		chromedp.WaitVisible(chromedp.CSS("form#login")),
		chromedp.SendKeys(chromedp.CSS("#username"), testAdminUser),
		chromedp.SendKeys(chromedp.CSS("#password"), testAdminPassword),
		chromedp.Click(chromedp.CSS(`form#login button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS("header.top")),
	))
}

// grantClipboard lets the page write to and read the clipboard.
func (s *browserSession) grantClipboard(t *testing.T, origin string) {
	t.Helper()
	for _, name := range []string{"clipboard-read", "clipboard-write"} {
		_, err := chromedp.CallBrowser(s.ctx, cdpbrowser.SetPermission, cdpbrowser.SetPermissionParams{
			Permission: &cdpbrowser.PermissionDescriptor{Name: name, AllowWithoutSanitization: true},
			Setting:    cdpbrowser.PermissionSettingGranted, Origin: origin,
			BrowserContextID: chromedp.FromContext(s.ctx).BrowserContextID,
		})
		run(t, s.ctx, "grant "+name, err)
	}
}

// waitFor polls a JavaScript condition until it holds.
func (s *browserSession) waitFor(t *testing.T, what, cond string) {
	t.Helper()
	_, err := chromedp.Run(s.ctx, chromedp.Poll[bool](cond))
	run(t, s.ctx, "wait for "+what, err)
}

func eval[T any](t *testing.T, s *browserSession, what, expr string) T {
	t.Helper()
	v, err := chromedp.Run(s.ctx, chromedp.Evaluate[T](expr))
	run(t, s.ctx, what, err)
	return v
}

func jsString(s string) string { return fmt.Sprintf("%q", s) }

// waitUntil evaluates cond until it is true, through navigations (which
// make an evaluation fail for a moment), for up to 15 seconds.
func (s *browserSession) waitUntil(t *testing.T, what, cond string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		ok, err := chromedp.Run(s.ctx, chromedp.Evaluate[bool](cond))
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			state, _ := chromedp.Run(s.ctx, chromedp.Evaluate[string](pageState))
			run(t, s.ctx, "wait for "+what, fmt.Errorf("still false after 15 s (last error: %v); the page: %s", err, state))
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// pageState describes the page for a failure message.
const pageState = `JSON.stringify({url: location.href, ready: document.readyState, title: document.title,
	panel: document.getElementById('preview-panel')?.dataset.variant,
	selected: document.querySelector('[role=tab][aria-selected=true]')?.id,
	busy: document.querySelectorAll('.htmx-request, .htmx-swapping, .htmx-settling').length})`
