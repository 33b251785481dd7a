package handlers_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// The seed's Test 3 in a real browser: a marketer signs in, opens a
// business's preview and switches between the three tabs more than 30
// times in about a second. Every panel must show the one short link, only
// one link may exist afterwards, and the panel must end on the tab clicked
// last even though earlier tabs answer later.
//
// Not t.Parallel: it times real clicks, so it runs before this package's
// parallel tests start.
func TestCampaignPreviewInBrowser(t *testing.T) {
	chromium := findChromium(t)
	app := newTestApp(t)
	biz := app.addBusiness(t, "Rosa's Bakery", "Austin", "https://rosas.example.com/")
	// Friendly answers slowest, Professional at once: without request
	// synchronisation a late Friendly panel would land on top of the
	// Professional one clicked after it.
	front := newSlowPanels(t, app.URL, map[string]time.Duration{"friendly": 50 * time.Millisecond, "urgent": 25 * time.Millisecond})
	ctx := newHeadlessBrowser(t, chromium)

	page := "/admin/campaigns/" + biz.ID
	openSignedIn(t, ctx, front.URL+page)
	_, err := chromedp.Run(ctx, chromedp.Evaluate[bool](observePanels))
	run(t, ctx, "watch the panel", err)
	tabs, err := chromedp.Run(ctx, chromedp.Evaluate[map[string][2]float64](tabCenters))
	run(t, ctx, "find the tabs", err)

	clicks, last, took := clickTabs(t, ctx, tabs)
	t.Logf("%d real clicks on the tabs in %v", clicks, took.Round(time.Millisecond))
	front.waitSettled(t, ctx)

	panels, final, counts := readPanels(t, ctx)
	t.Logf("htmx took %d clicks and aborted %d requests; %d reached the server (%d cancelled there while held back); %d panels were shown",
		counts[0], counts[1], front.requests.Load(), front.cancelled.Load(), len(panels))
	if counts[0] < 30 {
		t.Errorf("htmx saw only %d of %d clicks: the clicks did not drive the tabs", counts[0], clicks)
	}
	// The tabs queue the last choice behind the request in flight rather
	// than abort it: htmx logs every abort as a console error.
	if counts[1] != 0 {
		t.Errorf("%d requests were aborted (each one a console error)", counts[1])
	}
	if final.Variant != last || final.ActiveTab != strings.ToUpper(last[:1])+last[1:] || !strings.HasSuffix(final.Location, page+"?variant="+last) {
		t.Errorf("the page ended on %+v, want the %s tab clicked last (panel, active tab and address bar)", final, last)
	}
	_, api := app.api(t, "POST", "/api/v1/campaigns/preview-sms", previewBody(biz.ID, last))
	if final.Bubble != api["message"] || final.ShortURL != api["short_url"] {
		t.Errorf("final bubble %q / %q, API says %q / %q", final.Bubble, final.ShortURL, api["message"], api["short_url"])
	}
	if len(panels) < 2 { // the first, Friendly, and the last, Professional
		t.Errorf("only %d panels were shown; the tabs did not swap the panel", len(panels))
	}
	for i, p := range panels {
		if p.ShortURL == "" || p.ShortURL != api["short_url"] || !strings.Contains(p.Bubble, p.ShortURL+" ") {
			t.Errorf("panel %d (%s) showed short URL %q in %q, want %v everywhere", i, p.Variant, p.ShortURL, p.Bubble, api["short_url"])
		}
	}
	if n := app.activeLinksTo(t, "https://rosas.example.com/"); n != 1 || app.countLinks(t) != 1 {
		t.Errorf("%d active links to the site and %d links in all, want exactly one", n, app.countLinks(t))
	}

	// A second burst, paced only by timers: 30 clicks in about half a
	// second, faster than real input events can be sent through DevTools.
	burst, err := chromedp.Run(ctx, chromedp.Evaluate[burstResult](clickBurst, chromedp.EvalAwaitPromise))
	run(t, ctx, "click burst", err)
	front.waitSettled(t, ctx)
	t.Logf("burst: %d clicks in %d ms, ending on %s", burst.Clicks, burst.Millis, burst.Last)
	panels, final, _ = readPanels(t, ctx)
	// About half a second when the machine is quiet; the bound only
	// makes sure the clicks came faster than previews answer, with room
	// for a loaded 2-core machine.
	if burst.Clicks < 30 || burst.Millis > 3000 {
		t.Errorf("the burst made %d clicks in %d ms, want ≥ 30 within 3 s", burst.Clicks, burst.Millis)
	}
	if final.Variant != burst.Last {
		t.Errorf("after the burst the panel shows %s, want %s clicked last", final.Variant, burst.Last)
	}
	for i, p := range panels {
		if p.ShortURL != api["short_url"] {
			t.Errorf("panel %d (%s) showed %q, want %v", i, p.Variant, p.ShortURL, api["short_url"])
		}
	}
	if n := app.activeLinksTo(t, "https://rosas.example.com/"); n != 1 || app.countLinks(t) != 1 {
		t.Errorf("after the burst: %d active links to the site and %d links in all, want exactly one", n, app.countLinks(t))
	}

	shot := filepath.Join(t.ArtifactDir(), "campaign-preview.png")
	saveScreenshot(t, ctx, shot)
	t.Logf("screenshot: %s (kept with go test -artifacts)", shot)
	if os.Getenv("UPDATE_SCREENSHOTS") == "1" {
		updateDocScreenshots(t, ctx, app, front.URL, page, api["slug"].(string))
	}
}

// openSignedIn opens url, signs in through the real form it redirects to,
// and waits for the preview panel.
func openSignedIn(t *testing.T, ctx context.Context, url string) {
	t.Helper()
	run(t, ctx, "sign in", chromedp.Do(ctx,
		chromedp.Navigate(url),
		chromedp.WaitVisible(chromedp.CSS("form#login")),
		chromedp.SendKeys(chromedp.CSS("#username"), testAdminUser),
		chromedp.SendKeys(chromedp.CSS("#password"), testAdminPassword),
		chromedp.Click(chromedp.CSS(`form#login button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS("#preview-panel")),
	))
}

// readPanels returns every panel the page showed, the one it shows now, and
// how many clicks htmx took and how many requests it aborted.
func readPanels(t *testing.T, ctx context.Context) (panels []panelSeen, final panelSeen, counts [2]int) {
	t.Helper()
	panels, err := chromedp.Run(ctx, chromedp.Evaluate[[]panelSeen]("window.__panels"))
	run(t, ctx, "read the panels", err)
	if panels == nil {
		t.Fatal("the whole page reloaded while switching tabs; the tabs must swap only the panel")
	}
	final, err = chromedp.Run(ctx, chromedp.Evaluate[panelSeen](currentPanel))
	run(t, ctx, "read the final panel", err)
	counts, err = chromedp.Run(ctx, chromedp.Evaluate[[2]int]("[window.__requests, window.__aborted]"))
	run(t, ctx, "read the request counts", err)
	return panels, final, counts
}

// panelSeen is what the page showed in one preview panel.
type panelSeen struct {
	Variant   string `json:"variant"`
	ShortURL  string `json:"shortURL"`
	Bubble    string `json:"bubble"`
	ActiveTab string `json:"activeTab"`
	Location  string `json:"location"`
}

// observePanels records every panel swapped into the page, whichever
// request it came from, in window.__panels.
const observePanels = `(() => {
	const seen = p => ({variant: p.dataset.variant, shortURL: p.dataset.shortUrl,
		bubble: p.querySelector('.bubble').textContent, activeTab: '', location: ''});
	window.__panels = [seen(document.getElementById('preview-panel'))];
	window.__requests = 0;
	window.__aborted = 0;
	document.addEventListener('htmx:confirm', () => window.__requests++); // every click htmx takes, sent or queued
	document.addEventListener('htmx:sendAbort', () => window.__aborted++);
	new MutationObserver(records => {
		for (const r of records) for (const n of r.addedNodes)
			if (n.id === 'preview-panel') window.__panels.push(seen(n));
	}).observe(document.getElementById('campaign'), {childList: true, subtree: true});
	return true;
})()`

// tabCenters maps each variant to the centre of its tab, in CSS pixels.
const tabCenters = `Object.fromEntries([...document.querySelectorAll('#variant-tabs a')].map(a => {
	const r = a.getBoundingClientRect();
	return [a.textContent.trim().toLowerCase(), [r.x + r.width / 2, r.y + r.height / 2]];
}))`

// burstResult is what clickBurst reports.
type burstResult struct {
	Clicks int    `json:"clicks"`
	Millis int    `json:"millis"`
	Last   string `json:"last"`
}

// clickBurst clicks the tabs 33 times, 15 ms apart, ending on Urgent (held
// back 25 ms by the proxy) after Friendly (held back 50 ms).
const clickBurst = `new Promise(resolve => {
	const tabs = Object.fromEntries([...document.querySelectorAll('#variant-tabs a')].map(a => [a.textContent.trim().toLowerCase(), a]));
	const order = ['professional', 'friendly', 'urgent'];
	const seq = [];
	for (let i = 0; i < 32; i++) seq.push(order[i % 3]);
	seq.push('urgent');
	const start = performance.now();
	let i = 0;
	const next = () => {
		tabs[seq[i]].click();
		if (++i < seq.length) return setTimeout(next, 15);
		resolve({clicks: seq.length, millis: Math.round(performance.now() - start), last: seq[seq.length - 1]});
	};
	next();
})`

const currentPanel = `(() => {
	const p = document.getElementById('preview-panel');
	return {variant: p.dataset.variant, shortURL: p.dataset.shortUrl, bubble: p.querySelector('.bubble').textContent,
		activeTab: document.querySelector('#variant-tabs a.active').textContent.trim(), location: location.href};
})()`

// clickTabs sends 33 real mouse clicks, back to back: each one lands while
// the request of the click before is typically still open, so each
// replaces the choice queued behind it. The browser paces them (each click waits for the page to handle it),
// about a second in all. The sequence ends Friendly, Urgent, Professional:
// slowest first, fastest last.
func clickTabs(t *testing.T, ctx context.Context, tabs map[string][2]float64) (clicks int, last string, took time.Duration) {
	order := []string{"urgent", "professional", "friendly", "urgent", "friendly", "professional"}
	var seq []string
	for len(seq) < 30 {
		seq = append(seq, order...)
	}
	seq = append(seq, "friendly", "urgent", "professional")
	start := time.Now()
	for _, v := range seq {
		xy, ok := tabs[v]
		if !ok {
			t.Fatalf("no %s tab among %v", v, tabs)
		}
		run(t, ctx, "click "+v, chromedp.Do(ctx, chromedp.MouseClickXY(xy[0], xy[1])))
		clicks, last = clicks+1, v
	}
	return clicks, last, time.Since(start)
}

// slowPanels is a reverse proxy in front of the app that holds back the
// preview fragment of some variants, as a slow network would, and counts
// the preview requests still open.
type slowPanels struct {
	URL       string
	delays    map[string]time.Duration
	proxy     *httputil.ReverseProxy
	open      atomic.Int64
	requests  atomic.Int64
	cancelled atomic.Int64
}

func newSlowPanels(t *testing.T, target string, delays map[string]time.Duration) *slowPanels {
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	s := &slowPanels{delays: delays, proxy: httputil.NewSingleHostReverseProxy(u)}
	// A request the browser cancelled is expected, not worth a log line.
	s.proxy.ErrorHandler = func(w http.ResponseWriter, _ *http.Request, _ error) { w.WriteHeader(http.StatusBadGateway) }
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

func (s *slowPanels) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasSuffix(r.URL.Path, "/preview") {
		s.open.Add(1)
		defer s.open.Add(-1)
		s.requests.Add(1)
		select {
		case <-time.After(s.delays[r.URL.Query().Get("variant")]):
		case <-r.Context().Done():
			s.cancelled.Add(1)
			return
		}
	}
	s.proxy.ServeHTTP(w, r)
}

// waitSettled waits until no preview request is open at the server and
// htmx has nothing in flight or mid-swap, for longer than the slowest delay.
func (s *slowPanels) waitSettled(t *testing.T, ctx context.Context) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	quiet := 0
	for quiet < 8 { // 8 × 50 ms of calm
		if time.Now().After(deadline) {
			t.Fatalf("requests did not settle: %d still open", s.open.Load())
		}
		busy, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('.htmx-request, .htmx-swapping, .htmx-settling').length`))
		run(t, ctx, "check htmx", err)
		if busy == 0 && s.open.Load() == 0 {
			quiet++
		} else {
			quiet = 0
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// findChromium returns the browser to drive. Without one the test is
// skipped locally, but fails in CI, where .ci/run installs Chromium.
func findChromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("no Chromium on PATH: CI must run the browser test (apt-get install -y chromium)")
	}
	t.Skip("no Chromium on PATH; install Debian's chromium package to run the browser test")
	return ""
}

// newHeadlessBrowser opens a new tab in the test binary's one headless
// Chromium (started by the first test that needs it, with a fresh profile,
// and stopped by TestMain), so browser tests share the start-up cost. The
// tab closes when the test ends. The browser's output is logged only if the
// test fails.
func newHeadlessBrowser(t *testing.T, path string) context.Context {
	t.Helper()
	shared := sharedChromium(t, path)
	// A browser context of its own: no cookie (session) or storage is shared.
	ctx, cancel := chromedp.NewContext(shared.ctx, chromedp.WithNewBrowserContext())
	t.Cleanup(func() {
		cancel()
		if t.Failed() {
			t.Logf("chromium output:\n%s", shared.output())
		}
	})
	if err := chromedp.Do(ctx); err != nil { // opens the tab, with no timeout
		t.Fatalf("open a tab in %s: %v", path, err)
	}
	// Every tab behaves as the focused one (focus events, autofocus, the
	// clipboard), so browser tests can run in parallel with each other.
	_, err := chromedp.Call(ctx, emulation.SetFocusEmulationEnabled, emulation.SetFocusEmulationEnabledParams{Enabled: true})
	if err != nil {
		t.Fatalf("emulate focus in %s: %v", path, err)
	}
	// Every later step shares one deadline, so a page that never shows what
	// a step waits for fails the test instead of hanging it. The 30-page
	// axe walk, in parallel with the other tests, takes about 3 minutes on
	// a 2-core machine at load 15.
	ctx, cancelSteps := context.WithTimeout(ctx, 6*time.Minute)
	t.Cleanup(cancelSteps)
	return ctx
}

// chromium is the browser the tests share.
type chromium struct {
	ctx    context.Context
	stop   func()
	dir    string
	out    lockedBuffer // chromedp writes it from its own goroutine
	err    error
	starts sync.Once
}

var theChromium chromium

// sharedChromium starts the one browser on first use.
func sharedChromium(t *testing.T, path string) *chromium {
	t.Helper()
	c := &theChromium
	c.starts.Do(func() {
		if c.dir, c.err = os.MkdirTemp("", "shortlinks-chromium-"); c.err != nil {
			return
		}
		opts := append(chromedp.DefaultExecAllocatorOptions[:],
			chromedp.ExecPath(path),
			chromedp.NoSandbox, // CI runs as root
			chromedp.DisableGPU,
			chromedp.Flag("disable-quic", true),
			chromedp.Flag("disable-component-update", true),
			chromedp.Flag("no-proxy-server", true),
			chromedp.UserDataDir(c.dir),
			chromedp.WindowSize(1280, 900),
			chromedp.CombinedOutput(&c.out),
		)
		actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
		bctx, cancelBrowser := chromedp.NewContext(actx)
		c.ctx, c.stop = bctx, func() { cancelBrowser(); cancelAlloc(); os.RemoveAll(c.dir) }
		c.err = chromedp.Do(bctx) // starts the browser, with no timeout
	})
	if c.err != nil {
		t.Fatalf("start %s: %v", path, c.err)
	}
	return c
}

func (c *chromium) output() string { return string(c.out.Bytes()) }

// TestMain stops the shared browser once every test has run.
func TestMain(m *testing.M) {
	code := m.Run()
	if theChromium.stop != nil {
		theChromium.stop()
	}
	os.Exit(code)
}

// run fails the test on err, with a screenshot of what the browser showed.
func run(t *testing.T, ctx context.Context, step string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	shot := filepath.Join(t.ArtifactDir(), "failure.png")
	if png, serr := chromedp.Run(ctx, chromedp.FullScreenshot(100)); serr == nil {
		os.WriteFile(shot, png, 0o644)
	}
	t.Fatalf("%s: %v (screenshot %s)", step, err, shot)
}

func saveScreenshot(t *testing.T, ctx context.Context, path string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	run(t, ctx, "screenshot", err)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
}
