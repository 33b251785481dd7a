package handlers_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/shortlinks/shortlinks/db"
)

// Every page, signed in and out, in its empty, full and error states, at a
// laptop's and a phone's width, in one real browser: zero axe violations
// (WCAG 2.1 A and AA), nothing wider than a 390 px phone, no touch target
// under 24 px, and no console error or CSP violation on any navigation.
// Along the way: keyboard-only tab switching, Back and Forward, the copy
// buttons, and the template editor's live counter.
//
// It runs in parallel with the other tests: its tab has a browser context
// of its own and emulates focus (newHeadlessBrowser), so keyboard, mouse
// and clipboard go to it alone.
func TestEveryPageInBrowser(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	ctx := context.Background()
	rosa := app.addBusiness(t, "Rosa's Bakery", "Austin", "https://rosas.example.com/")
	// Outside GSM-7 (â, ô) and long: the UCS-2 and several-segments warnings.
	cafe := app.addBusiness(t, "Café Lumière — Pâtisserie, Brasserie & Rôtisserie du Vieux Port", "Montréal", "https://cafelumiere.example.com/")
	_, friendly := app.api(t, "POST", "/api/v1/campaigns/preview-sms", previewBody(rosa.ID, "friendly"))
	app.addLink(t, "https://example.com/a-rather-long-destination/path/that/goes/on/and/on?utm_source=sms&utm_campaign=spring", "campaign")
	retired := app.addLink(t, "https://retired.example.com/", "campaign")
	if _, err := app.Store.Deactivate(ctx, retired.Slug); err != nil {
		t.Fatal(err)
	}
	app.addLink(t, "https://retired.example.com/", "campaign") // now Reactivate is blocked
	s := newBrowserSession(t)

	// The harness itself: axe must see a fault planted in a page.
	s.open(t, app.URL, "/admin/login", desktopWidth)
	eval[bool](t, s, "plant a fault", `document.querySelector('label[for=password]').remove(); true`)
	if v := s.axe(t); len(v) == 0 || !strings.Contains(fmt.Sprint(v), "label") {
		t.Fatalf("axe did not notice an input without a label: %v", v)
	}

	// Signed out.
	for _, p := range []pageCheck{
		{"sign-in page", "/admin/login"},
		{"API documentation", "/api/docs"},
		{"recipient: no such link", "/Zz9Zz9"},
		{"recipient: retired link", "/" + retired.Slug},
	} {
		s.checkPage(t, app.URL, p)
	}
	s.open(t, app.URL, "/admin/login", desktopWidth)
	run(t, s.ctx, "fail to sign in", chromedp.Do(s.ctx,
		chromedp.SendKeys(chromedp.CSS("#username"), testAdminUser),
		chromedp.SendKeys(chromedp.CSS("#password"), "wrong password"),
		chromedp.Click(chromedp.CSS(`form#login button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS("#login-error")),
	))
	// autofocus lands a moment after the page shows: wait for it.
	s.waitUntil(t, "the focus on #password after a failed sign-in", `document.activeElement.id === "password"`)
	s.checkCurrent(t, "sign-in page with an error")

	s.signIn(t, app.URL)
	campaign := "/admin/campaigns/" + rosa.ID
	for _, p := range []pageCheck{
		{"campaigns", "/admin/campaigns"},
		{"campaigns, none match", "/admin/campaigns?q=nothing-matches-this"},
		{"campaign preview", campaign},
		{"campaign preview, UCS-2 and 2+ segments", "/admin/campaigns/" + cafe.ID + "?variant=professional"},
		{"links", "/admin/links"},
		{"links, none match", "/admin/links?q=nothing-matches-this"},
		{"link", "/admin/links/" + friendly["slug"].(string)},
		{"retired link", "/admin/links/" + retired.Slug},
		{"deactivate: confirm", "/admin/links/" + friendly["slug"].(string) + "/deactivate"},
		{"health, all good", "/admin/health"},
		{"heal: confirm", "/admin/health/heal"},
		{"results, no sends yet", "/admin/results"},
		{"message templates", "/admin/templates"},
		{"webhooks", "/admin/webhooks"},
		{"add a business", "/admin/businesses/new"},
		{"edit a business", "/admin/businesses/" + rosa.ID + "/edit"},
		{"no such admin page", "/admin/settings"},
		{"no such business", "/admin/campaigns/6f1c9e4e-0000-4000-8000-000000000000"},
		{"bad filter", "/admin/links?sort=sideways"},
	} {
		s.checkPage(t, app.URL, p)
	}

	// Full states: a recorded send on the results page and the preview.
	app.mustPost(t, "/api/v1/campaigns/sends", "browser-send-1", previewBody(rosa.ID, "friendly"))
	for _, p := range []pageCheck{
		{"results with a send", "/admin/results"},
		{"campaign preview, sent", campaign},
	} {
		s.checkPage(t, app.URL, p)
	}

	s.open(t, app.URL, "/admin/businesses/new", desktopWidth)
	run(t, s.ctx, "add a business without a site", chromedp.Do(s.ctx,
		chromedp.SendKeys(chromedp.CSS("#business-name"), "Ace Hardware"),
		chromedp.Click(chromedp.CSS(`main form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS("#business-site_url-error")),
	))
	// autofocus lands a moment after the page shows: wait for it.
	s.waitUntil(t, "the focus on #business-site_url after a refused business", `document.activeElement.id === "business-site_url"`)
	s.checkCurrent(t, "add a business, refused")
	checkTemplateCounter(t, s, app.URL)
	checkFiltersApplyOnChange(t, s, app.URL)
	checkKeyboardTabs(t, s, app.URL+campaign)
	checkCopyButtons(t, s, app.URL, campaign, friendly["message"].(string), friendly["short_url"].(string))

	// The red state of the health page, with its heal action and the
	// confirmation step.
	app.Store.DB().MustExec(`DROP INDEX ` + db.UniqueIndexName)
	app.rawLink(t, "dup001", "https://rosas.example.com/")
	app.checkDuplicates(t)
	s.checkPage(t, app.URL, pageCheck{"health, duplicates", "/admin/health"})
	s.checkPage(t, app.URL, pageCheck{"heal: confirm, with duplicates", "/admin/health/heal"})
}

// checkKeyboardTabs drives the variant tabs with the keyboard only: the
// arrows wrap, Home and End jump, every key loads its panel, and at the end
// the panel, the selected tab, the focus and the address bar all match the
// last key. Back and Forward then bring back consistent pages without a
// CSP violation.
func checkKeyboardTabs(t *testing.T, s *browserSession, pageURL string) {
	t.Helper()
	run(t, s.ctx, "open the campaign", chromedp.Do(s.ctx,
		chromedp.EmulateViewport(desktopWidth, 900),
		chromedp.Navigate(pageURL),
		chromedp.WaitVisible(chromedp.CSS("#preview-panel")),
		chromedp.Focus(chromedp.CSS(`[role=tab][aria-selected=true]`)),
	))
	variants := []string{"friendly", "professional", "urgent"}
	keys := []string{kb.ArrowRight, kb.ArrowRight, kb.ArrowRight, kb.End, kb.ArrowLeft, kb.Home, kb.ArrowLeft, kb.ArrowLeft, kb.ArrowRight, kb.End, kb.ArrowLeft}
	at := 0 // friendly
	for _, k := range keys {
		switch k {
		case kb.ArrowRight:
			at = (at + 1) % len(variants)
		case kb.ArrowLeft:
			at = (at + len(variants) - 1) % len(variants)
		case kb.Home:
			at = 0
		case kb.End:
			at = len(variants) - 1
		}
		run(t, s.ctx, "press a key", chromedp.Do(s.ctx, chromedp.KeyEvent(k)))
	}
	want := variants[at]
	s.waitUntil(t, "the "+want+" panel", `document.getElementById('preview-panel').dataset.variant === `+jsString(want)+
		` && !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling')`)
	state := eval[map[string]string](t, s, "read the tabs", `(() => ({
		focus: document.activeElement.id,
		selected: [...document.querySelectorAll('[role=tab][aria-selected=true]')].map(a => a.id).join(' '),
		tabbable: [...document.querySelectorAll('[role=tab][tabindex="0"]')].map(a => a.id).join(' '),
		labelledBy: document.getElementById('preview-panel').getAttribute('aria-labelledby'),
		variant: document.getElementById('preview-panel').dataset.variant,
		location: location.search,
		outline: getComputedStyle(document.activeElement).outlineStyle + ' ' + getComputedStyle(document.activeElement).outlineWidth,
	}))()`)
	if strings.HasPrefix(state["outline"], "none") || strings.HasSuffix(state["outline"], " 0px") {
		t.Errorf("the focused tab shows no focus outline (%s)", state["outline"])
	}
	delete(state, "outline")
	tab := "tab-" + want
	if state["focus"] != tab || state["selected"] != tab || state["tabbable"] != tab || state["labelledBy"] != tab ||
		state["variant"] != want || state["location"] != "?variant="+want {
		t.Errorf("after the keys the page is %v, want everything on %s (the last key)", state, want)
	}
	s.expectNoProblems(t, "switching tabs with the keyboard")

	for _, step := range []struct {
		name   string
		script string
	}{{"Back", "history.back()"}, {"Forward", "history.forward()"}, {"Back again", "history.back()"}} {
		// Back and Forward load the page afresh (htmx keeps no snapshots), so
		// the marker set here is gone once the page has come back.
		eval[bool](t, s, step.name, "window.__before = true; "+step.script+"; true")
		s.waitUntil(t, "the page after "+step.name, `!window.__before && document.readyState === 'complete' &&
			!!document.getElementById('preview-panel') && !document.querySelector('.htmx-request') &&
			document.getElementById('preview-panel').dataset.variant === (new URLSearchParams(location.search).get('variant') || 'friendly') &&
			document.querySelector('[role=tab][aria-selected=true]').dataset.variant === document.getElementById('preview-panel').dataset.variant`)
		s.expectNoProblems(t, step.name)
	}
}

// checkCopyButtons presses Copy message and Copy link and reads the
// clipboard back; each press says so on the page.
func checkCopyButtons(t *testing.T, s *browserSession, base, campaign, message, shortURL string) {
	t.Helper()
	s.grantClipboard(t, base)
	s.open(t, base, campaign+"?variant=friendly", desktopWidth)
	for _, c := range []struct{ button, css, want, says string }{
		{"Copy message", `button[data-copy="message-text"]`, message, "Message copied"},
		{"Copy link", `button[data-copy="short-link-text"]`, shortURL, "Link copied"},
	} {
		if label := eval[string](t, s, "read "+c.button, `document.querySelector(`+jsString(c.css)+`).textContent.trim()`); label != c.button {
			t.Errorf("button %s says %q", c.css, label)
		}
		run(t, s.ctx, "press "+c.button, chromedp.Do(s.ctx, chromedp.Click(chromedp.CSS(c.css))))
		s.waitUntil(t, "the confirmation of "+c.button, `document.querySelector('#preview-panel .copied').textContent === `+jsString(c.says))
		got, err := chromedp.Run(s.ctx, chromedp.Evaluate[string](`navigator.clipboard.readText()`, chromedp.EvalAwaitPromise))
		run(t, s.ctx, "read the clipboard", err)
		if strings.TrimSpace(got) != c.want {
			t.Errorf("%s put %q on the clipboard, want %q", c.button, got, c.want)
		}
	}
	// Without the Clipboard API (a plain http:// address other than
	// localhost), the button selects the text and says how to copy it, or
	// copies it the old way.
	s.open(t, base, campaign+"?variant=friendly", desktopWidth)
	eval[bool](t, s, "remove the Clipboard API", `Object.defineProperty(navigator, 'clipboard', {value: undefined}); true`)
	run(t, s.ctx, "press Copy message", chromedp.Do(s.ctx, chromedp.Click(chromedp.CSS(`button[data-copy="message-text"]`))))
	s.waitUntil(t, "the fallback's confirmation", `document.querySelector('#preview-panel .copied').textContent !== ''`)
	fallback := eval[map[string]string](t, s, "read the fallback", `({said: document.querySelector('#preview-panel .copied').textContent, selected: getSelection().toString()})`)
	if fallback["said"] != "Message copied" && !(strings.Contains(fallback["said"], "Ctrl+C") && fallback["selected"] == message) {
		t.Errorf("without the Clipboard API: said %q with %q selected; want it copied, or selected with a hint", fallback["said"], fallback["selected"])
	}

	// The admin's short link is text, not a link: opening the preview (or
	// tapping around it) can never count as a recipient's click.
	if n := eval[int](t, s, "look for the short link", `document.querySelectorAll('a[href='+JSON.stringify(`+jsString(shortURL)+`)+']').length`); n != 0 {
		t.Errorf("the preview links to its short URL %d times; the admin opening it would count as a click", n)
	}
	s.expectNoProblems(t, "copy buttons")
}

// checkTemplateCounter types into the Friendly template and waits for the
// live counter, which must agree with arithmetic done here: one character
// outside GSM-7 (ç) makes the text UCS-2, 67 UTF-16 units per part once it
// needs more than one SMS. Then a template with a typo is saved, and the
// refusal is checked like every other page.
func checkTemplateCounter(t *testing.T, s *browserSession, base string) {
	t.Helper()
	s.open(t, base, "/admin/templates", desktopWidth)
	shortURL := base + "/Ab3dE5" // the counter's sample link
	typed := "{url} ç" + strings.Repeat("x", 80)
	units := len(shortURL) + 2 + 80
	segments := (units + 66) / 67
	eval[bool](t, s, "clear the template", `document.getElementById('tmpl-friendly').value = ''; true`)
	run(t, s.ctx, "type a template", chromedp.Do(s.ctx, chromedp.SendKeys(chromedp.CSS("#tmpl-friendly"), typed)))
	s.waitUntil(t, "the live counter", `(() => {
		const c = document.getElementById('count-friendly');
		return c.querySelector('.encoding')?.textContent === 'UCS-2' &&
			c.querySelector('.characters')?.textContent.includes('(`+fmt.Sprint(units)+` UTF-16 units)') &&
			c.querySelector('.segments')?.textContent.startsWith('`+fmt.Sprint(segments)+` ') &&
			c.querySelector('.segments')?.textContent.includes('up to 67 ') &&
			c.querySelector('.warn')?.textContent.includes('ç');
	})()`)
	eval[bool](t, s, "clear the template", `document.getElementById('tmpl-friendly').value = ''; true`)
	run(t, s.ctx, "type a typo", chromedp.Do(s.ctx, chromedp.SendKeys(chromedp.CSS("#tmpl-friendly"), "Hi {nmae}: {url}")))
	s.waitUntil(t, "the counter naming the typo", `document.querySelector('#count-friendly [data-count-error]')?.textContent.includes('{nmae}')`)
	run(t, s.ctx, "save the typo", chromedp.Do(s.ctx,
		chromedp.Click(chromedp.CSS(`form[action="/admin/templates/friendly"] button[value=save]`)),
		chromedp.WaitVisible(chromedp.CSS(`#tmpl-friendly[aria-invalid=true]`)),
	))
	// autofocus lands a moment after the page shows: wait for it.
	s.waitUntil(t, "the focus on #tmpl-friendly after a refused template", `document.activeElement.id === "tmpl-friendly"`)
	s.checkCurrent(t, "templates with an error")
}

// checkFiltersApplyOnChange changes the links page's status filter with the
// keyboard: the listing follows at once, without a Filter press, and the
// focus stays on the select.
func checkFiltersApplyOnChange(t *testing.T, s *browserSession, base string) {
	t.Helper()
	s.open(t, base, "/admin/links", desktopWidth)
	rows := eval[int](t, s, "count rows", `document.querySelectorAll('tbody tr[id^=link-]').length`)
	run(t, s.ctx, "choose Active only", chromedp.Do(s.ctx,
		chromedp.Focus(chromedp.CSS("#filter-active")),
		chromedp.KeyEvent(kb.ArrowDown),
	))
	s.waitUntil(t, "the filtered listing", `location.search.includes('active=true') && !document.querySelector('.htmx-request') &&
		[...document.querySelectorAll('tbody tr[id^=link-] .badge')].every(b => b.textContent === 'active')`)
	after := eval[map[string]any](t, s, "read the listing", `({rows: document.querySelectorAll('tbody tr[id^=link-]').length, focus: document.activeElement.id})`)
	if after["focus"] != "filter-active" || int(after["rows"].(float64)) >= rows {
		t.Errorf("after choosing Active only: %v (from %d rows); want fewer rows and the focus still on the select", after, rows)
	}
	s.expectNoProblems(t, "links filter")
}
