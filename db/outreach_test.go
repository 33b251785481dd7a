package db_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/shortlinks/shortlinks/db"
)

// outreachFixture is a business with its site_preview link, and a way to
// record sends of it.
type outreachFixture struct {
	s    *db.Store
	b    db.Business
	link db.Link
}

// asAna is a request by the user ana: who sends and voids record.
var asAna = db.WithActor(context.Background(), db.Actor{Kind: db.ActorUser, Name: "ana"})

func newOutreachFixture(t *testing.T, name, site, phone string) outreachFixture {
	t.Helper()
	ctx := context.Background()
	s := newTestStore(t, db.Options{})
	return addOutreachBusiness(t, s, ctx, name, site, phone)
}

func addOutreachBusiness(t *testing.T, s *db.Store, ctx context.Context, name, site, phone string) outreachFixture {
	t.Helper()
	b, err := s.CreateBusiness(ctx, db.NewBusiness{Name: name, SiteURL: site, Phone: phone})
	if err != nil {
		t.Fatal(err)
	}
	link, _, err := s.GetOrCreateLink(ctx, db.LinkRequest{DestinationURL: site, LinkType: db.LinkTypeSitePreview, BusinessID: &b.ID, SiteID: b.SiteID})
	if err != nil {
		t.Fatal(err)
	}
	return outreachFixture{s: s, b: b, link: link}
}

func (f outreachFixture) send(key, variant string, version int) (db.Send, error) {
	hash := sha256.Sum256([]byte(key))
	sn, _, err := f.s.RecordSend(asAna, db.NewSend{BusinessID: f.b.ID, Variant: variant, Message: "m " + variant,
		LinkID: f.link.ID, Slug: f.link.Slug, ShortURL: "https://sho.rt/" + f.link.Slug, Encoding: "GSM-7", Segments: 1,
		CostMicros: 7900, Currency: "USD", TemplateVersion: version},
		db.Idempotency{Key: key, RequestHash: hash[:]})
	return sn, err
}

func (f outreachFixture) tap(t *testing.T, sn db.Send, clicks int64) {
	t.Helper()
	_, err := f.s.FlushClicks(context.Background(), db.ClickBatch{ID: db.NewBatchID(),
		Rows: []db.ClickRow{{LinkID: f.link.ID, Day: sn.SentAt, Clicks: clicks}},
		Taps: []db.TapRow{{Tapped: f.link.ID, Counted: f.link.ID, At: sn.SentAt, Clicks: clicks}}})
	if err != nil {
		t.Fatal(err)
	}
}

func (f outreachFixture) status(t *testing.T) db.Business {
	t.Helper()
	b, err := f.s.GetBusiness(context.Background(), f.b.ID)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A business goes not sent → sent → tapped, and a voided send takes its
// send and taps out of the status and the results (both the running
// totals and a date window).
func TestOutreachStatusAndVoid(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newOutreachFixture(t, "Rosa's Bakery", "https://rosa.example.com/", "+15125550134")
	if st := f.status(t).OutreachStatus; st != db.OutreachNotSent {
		t.Fatalf("new business is %q, want not_sent", st)
	}
	first, err := f.send("k1", "friendly", 0)
	if err != nil {
		t.Fatal(err)
	}
	b := f.status(t)
	if b.OutreachStatus != db.OutreachSent || b.LastVariant == nil || *b.LastVariant != "friendly" || b.LastSentBy == nil || *b.LastSentBy != "ana" {
		t.Fatalf("after a send: %+v", b.Outreach)
	}
	f.tap(t, first, 3)
	b = f.status(t)
	if b.OutreachStatus != db.OutreachTapped || b.Taps != 3 || b.FirstTapAt == nil || b.FirstTapAt.Before(first.SentAt) {
		t.Fatalf("after taps: %+v", b.Outreach)
	}
	ups, err := f.s.FollowUps(ctx, 10)
	if err != nil || len(ups) != 1 || ups[0].BusinessName != "Rosa's Bakery" || ups[0].Taps != 3 || ups[0].TimeToTap() < 0 {
		t.Fatalf("follow-ups %+v, %v", ups, err)
	}

	voided, err := f.s.VoidSend(asAna, first.ID, "sent to the wrong number")
	if err != nil || voided.VoidedAt == nil || voided.VoidReason == nil {
		t.Fatalf("void: %+v %v", voided, err)
	}
	if st := f.status(t).OutreachStatus; st != db.OutreachNotSent {
		t.Errorf("after voiding the only send: %q, want not_sent", st)
	}
	if ups, _ := f.s.FollowUps(ctx, 10); len(ups) != 0 {
		t.Errorf("a voided send is still followed up: %+v", ups)
	}
	for name, rows := range resultWindows(t, f.s, first.SentAt) {
		for _, r := range rows {
			if r.Sends != 0 || r.Clicks != 0 || r.BusinessesSent != 0 || r.BusinessesClicked != 0 || r.CostMicros != 0 {
				t.Errorf("%s: results still count the voided send: %+v", name, r)
			}
		}
	}
	// Voiding again changes nothing; a tap after the void goes to no send.
	if _, err := f.s.VoidSend(asAna, first.ID, "again"); err != nil {
		t.Fatal(err)
	}
	f.tap(t, first, 1)
	if got, _ := f.s.GetSend(ctx, first.ID); got.Clicks != 3 {
		t.Errorf("voided send has %d clicks after a later tap, want 3", got.Clicks)
	}
	if _, err := f.s.VoidSend(ctx, "00000000-0000-0000-0000-000000000000", "x"); !errors.Is(err, db.ErrNotFound) {
		t.Errorf("void of an unknown send: %v, want ErrNotFound", err)
	}
}

// Voiding one of two sends of a variant to a business keeps the business
// counted once, with the other send's taps.
func TestVoidKeepsTheOtherSendsOfTheVariant(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newOutreachFixture(t, "Luna", "https://luna.example.com/", "")
	a, err := f.send("a", "urgent", 1)
	if err != nil {
		t.Fatal(err)
	}
	f.tap(t, a, 2)
	b, err := f.send("b", "urgent", 2)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.VoidSend(ctx, b.ID, "double"); err != nil {
		t.Fatal(err)
	}
	for name, rows := range resultWindows(t, f.s, a.SentAt) {
		if len(rows) != 1 {
			t.Errorf("%s: results %+v", name, rows)
			continue
		}
		if r := rows[0]; r.Sends != 1 || r.BusinessesSent != 1 || r.BusinessesClicked != 1 || r.Clicks != 2 {
			t.Errorf("%s: after voiding the second send: %+v, want 1 send, 1 business, 1 clicked, 2 clicks", name, r)
		}
	}
	byVersion, err := f.s.CampaignResultsByVersion(ctx, nil, nil)
	if err != nil || len(byVersion) != 1 || byVersion[0].TemplateVersion == nil || *byVersion[0].TemplateVersion != 1 {
		t.Errorf("by version %+v %v, want version 1 only", byVersion, err)
	}
}

// An opted-out business gets no send, even from concurrent requests racing
// the opt-out: every send either committed before it or is refused.
func TestOptedOutRefusesSends(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newOutreachFixture(t, "Iron Temple", "https://iron.example.com/", "")
	before, err := f.send("before", "friendly", 0)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = f.send(fmt.Sprintf("race-%d", i), "urgent", 0)
		}()
	}
	optedOut, err := f.s.SetOptedOut(ctx, f.b.ID, true)
	wg.Wait()
	if err != nil || optedOut.OutreachStatus != db.OutreachOptedOut {
		t.Fatalf("opt-out: %v %+v", err, optedOut.Outreach)
	}
	var sends int
	if err := f.s.DB().Get(&sends, `SELECT COUNT(*) FROM campaign_sends WHERE business_id = $1 AND sent_at > $2`, f.b.ID, optedOut.OptedOutAt); err != nil {
		t.Fatal(err)
	}
	if sends != 0 {
		t.Errorf("%d sends recorded after the opt-out", sends)
	}
	for _, err := range errs {
		if err != nil && !errors.Is(err, db.ErrOptedOut) {
			t.Errorf("racing send: %v", err)
		}
	}
	if _, err := f.send("after", "friendly", 0); !errors.Is(err, db.ErrOptedOut) || !errors.Is(err, db.ErrConflict) {
		t.Errorf("send after opt-out: %v, want ErrOptedOut (a conflict)", err)
	}
	if again, err := f.send("before", "friendly", 0); err != nil || again.ID != before.ID {
		t.Errorf("a repeat of a key used before the opt-out: %+v %v, want the first send", again, err)
	}
	page, err := f.s.ListBusinesses(ctx, db.BusinessFilter{Status: db.OutreachOptedOut})
	if err != nil || len(page.Businesses) != 1 {
		t.Errorf("opted_out filter: %+v %v", page, err)
	}
	if _, err := f.s.SetOptedOut(ctx, f.b.ID, false); err != nil {
		t.Fatal(err)
	}
	if _, err := f.send("back", "friendly", 0); err != nil {
		t.Errorf("send after opting back in: %v", err)
	}
}

// Changing a business's site URL moves its sent link: the old slug now
// redirects to the new site through the new link, where its taps count.
func TestSiteURLChangeSupersedesTheSentLink(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newOutreachFixture(t, "Rosa", "https://old.example.com/", "")
	if _, err := f.send("k", "friendly", 0); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.UpdateBusiness(ctx, f.b.ID, db.NewBusiness{Name: "Rosa", SiteURL: "https://new.example.com/"}); err != nil {
		t.Fatal(err)
	}
	old, err := f.s.FindBySlug(ctx, f.link.Slug)
	if err != nil {
		t.Fatal(err)
	}
	if old.IsActive || old.SupersededBy == nil {
		t.Fatalf("old link after the change: active=%t superseded_by=%v", old.IsActive, old.SupersededBy)
	}
	target, err := redirectTarget(ctx, f.s, f.link.Slug)
	if err != nil || target.DestinationURL != "https://new.example.com/" || !target.IsActive {
		t.Fatalf("old slug redirects to %+v %v, want the new site", target, err)
	}
	newLink, _, err := f.s.GetOrCreateLink(ctx, db.LinkRequest{DestinationURL: "https://new.example.com/", LinkType: db.LinkTypeSitePreview})
	if err != nil || newLink.Slug != *old.SupersededBy {
		t.Fatalf("the preview's link %q is not the one the old link forwards to (%v): %v", newLink.Slug, old.SupersededBy, err)
	}
	// Changing it again keeps forwarding one level deep.
	if _, err := f.s.UpdateBusiness(ctx, f.b.ID, db.NewBusiness{Name: "Rosa", SiteURL: "https://third.example.com/"}); err != nil {
		t.Fatal(err)
	}
	if target, _ := redirectTarget(ctx, f.s, f.link.Slug); target.DestinationURL != "https://third.example.com/" {
		t.Errorf("after a second change the first slug goes to %q", target.DestinationURL)
	}
	// A site shared with another business keeps its link for them.
	other := addOutreachBusiness(t, f.s, ctx, "Shared A", "https://shared.example.com/", "")
	if _, err := f.s.CreateBusiness(ctx, db.NewBusiness{Name: "Shared B", SiteURL: "https://shared.example.com/"}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.UpdateBusiness(ctx, other.b.ID, db.NewBusiness{Name: "Shared A", SiteURL: "https://a.example.com/"}); err != nil {
		t.Fatal(err)
	}
	if l, _ := f.s.FindBySlug(ctx, other.link.Slug); !l.IsActive {
		t.Errorf("a link another business still uses was retired")
	}
}

// An import adds new rows and updates rows it has seen (by external_id,
// or by phone without one), and a repeated idempotency key imports nothing.
func TestImportBusinesses(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newTestStore(t, db.Options{})
	pre, err := s.CreateBusiness(ctx, db.NewBusiness{Name: "Hand made", Phone: "+15125550100", SiteURL: "https://hand.example.com/"})
	if err != nil {
		t.Fatal(err)
	}
	rows := []db.ImportRow{
		{Line: 2, Name: "Rosa", SiteURL: "https://rosa.example.com/", City: "Austin", Phone: "+15125550134", ExternalID: "r1"},
		{Line: 3, Name: "Hand made, renamed", SiteURL: "https://hand.example.com/", Phone: "+15125550100"},
		{Line: 4, Name: "No phone", SiteURL: "https://np.example.com/"},
	}
	idem := db.Idempotency{Key: "imp-1", RequestHash: []byte("h1")}
	res, replayed, err := s.ImportBusinesses(ctx, rows, []db.ImportRejection{{Line: 5, Column: "phone", Reason: "bad"}}, idem)
	if err != nil || replayed || res.Imported != 2 || res.Updated != 1 {
		t.Fatalf("first import: %+v replayed=%t %v; want 2 imported, 1 updated", res, replayed, err)
	}
	if b, _ := s.GetBusiness(ctx, pre.ID); b.Name != "Hand made, renamed" {
		t.Errorf("phone match did not update: %q", b.Name)
	}
	again, replayed, err := s.ImportBusinesses(ctx, rows, nil, idem)
	if err != nil || !replayed || again.Imported != 2 || len(again.Rejected) != 1 {
		t.Fatalf("repeat: %+v replayed=%t %v", again, replayed, err)
	}
	rows[0].Name, rows[0].Phone, rows[0].SiteURL = "Rosa's Bakery", "+15125550199", "https://rosas.example.com/"
	res, _, err = s.ImportBusinesses(ctx, rows[:1], nil, db.Idempotency{})
	if err != nil || res.Imported != 0 || res.Updated != 1 {
		t.Fatalf("re-import: %+v %v; want 1 updated", res, err)
	}
	n, _ := s.CountBusinesses(ctx)
	if n != 3 {
		t.Errorf("%d businesses, want 3", n)
	}
	clashes, err := s.ContactClashes(ctx, "+15125550199", "https://hand.example.com/", "")
	if err != nil || len(clashes) != 2 || clashes[0].Name != "Rosa's Bakery" || clashes[1].Name != "Hand made, renamed" {
		t.Errorf("clashes %+v %v", clashes, err)
	}
}

// Template versions go up on every save and reset, never repeating.
func TestTemplateVersions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newTestStore(t, db.Options{})
	steps := []func() error{
		func() error { return s.SaveMessageTemplate(ctx, "friendly", "Hi {name} {url}") },
		func() error { return s.ResetMessageTemplate(ctx, "friendly") },
		func() error { return s.SaveMessageTemplate(ctx, "friendly", "Hello {name} {url}") },
	}
	for i, step := range steps {
		if err := step(); err != nil {
			t.Fatal(err)
		}
		v, err := s.MessageTemplateVersions(ctx)
		if err != nil || v["friendly"] != i+1 {
			t.Fatalf("after step %d: versions %v %v, want %d", i, v, err, i+1)
		}
	}
	tpl, _ := s.MessageTemplates(ctx)
	if tpl["friendly"] != "Hello {name} {url}" {
		t.Errorf("template %q", tpl["friendly"])
	}
	// Resetting a variant that is at its default (never edited, or reset
	// already) changes nothing: no version, no audit row.
	for range 2 {
		if err := s.ResetMessageTemplate(ctx, "urgent"); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.ResetMessageTemplate(ctx, "friendly"); err != nil {
		t.Fatal(err)
	}
	if err := s.ResetMessageTemplate(ctx, "friendly"); err != nil {
		t.Fatal(err)
	}
	if v, _ := s.MessageTemplateVersions(ctx); v["friendly"] != 4 || v["urgent"] != 0 {
		t.Errorf("versions after resets of defaults: %v, want friendly 4, urgent none", v)
	}
	if got := auditRows(t, s, db.AuditTemplateReset); len(got) != 2 {
		t.Errorf("%d template.reset audit rows, want 2 (the two that changed something)", len(got))
	}
}

// redirectTarget is what the redirect path answers for one slug.
func redirectTarget(ctx context.Context, s *db.Store, slug string) (db.RedirectTarget, error) {
	ts, err := s.RedirectTargets(ctx, []string{slug})
	if err != nil || len(ts) != 1 {
		return db.RedirectTarget{}, fmt.Errorf("redirect target %q: %d found: %v", slug, len(ts), err)
	}
	return ts[0], nil
}

// resultWindows reads the results through each of CampaignResults' paths
// for sends made at about sentAt: the running totals, windows ending now
// whose sends are in the first partial hour or in whole hours of the
// rollup, and a window with no start (the hour and gap rollups).
func resultWindows(t *testing.T, s *db.Store, sentAt time.Time) map[string][]db.VariantResult {
	t.Helper()
	ctx := context.Background()
	justBefore, hoursBefore, later := sentAt.Add(-time.Second), sentAt.Add(-2*time.Hour), sentAt.Add(time.Hour)
	windows := map[string][2]*time.Time{
		"all time":              {nil, nil},
		"since a second before": {&justBefore, nil},
		"since two hours":       {&hoursBefore, nil},
		"until an hour later":   {nil, &later},
	}
	out := map[string][]db.VariantResult{}
	for name, w := range windows {
		rows, err := s.CampaignResults(ctx, w[0], w[1])
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out[name] = rows
	}
	return out
}
