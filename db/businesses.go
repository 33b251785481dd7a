package db

import (
	"context"
	"fmt"
	"time"
)

// StatusReadyForOutreach marks businesses the campaign page lists.
const StatusReadyForOutreach = "ready_for_outreach"

// Business is a business with its (first) site and its outreach state.
type Business struct {
	ID    string `db:"id"`
	Name  string `db:"name"`
	City  string `db:"city"`
	Phone string `db:"phone"` // E.164 when entered since migration 00030; "" for none
	// Status is the listing status ("ready_for_outreach" puts it on the
	// campaigns page); Outreach is where its outreach stands.
	Status     string     `db:"status"`
	ExternalID *string    `db:"external_id"`
	OptedOutAt *time.Time `db:"opted_out_at"`
	CreatedAt  time.Time  `db:"created_at"`
	SiteID     *string    `db:"site_id"`
	SiteURL    *string    `db:"site_url"`
	Outreach
}

// Outreach is where a business's outreach stands, derived from its
// opt-out and its sends that are not voided: see outreachJoin.
type Outreach struct {
	OutreachStatus string     `db:"outreach_status"` // one of OutreachStatuses
	LastSendID     *string    `db:"last_send_id"`
	LastVariant    *string    `db:"last_variant"`
	LastSentAt     *time.Time `db:"last_sent_at"`
	LastSentBy     *string    `db:"last_sent_by"`
	FirstTapAt     *time.Time `db:"first_tap_at"`
	Taps           int64      `db:"taps"`
}

// NewBusiness is what CreateBusiness needs. SiteURL must be normalized.
type NewBusiness struct {
	Name    string
	City    string
	Phone   string
	Status  string // default ready_for_outreach
	SiteURL string
}

const businessColumns = `b.id::text, b.name, b.city, b.phone, b.status, b.external_id, b.opted_out_at, b.created_at,
	s.id::text AS site_id, s.url AS site_url, ` + outreachColumns

// businessFrom joins each business to its oldest site and its outreach.
const businessFrom = `FROM businesses b
	LEFT JOIN LATERAL (SELECT id, url FROM sites WHERE business_id = b.id
	                   ORDER BY created_at, id LIMIT 1) s ON true ` + outreachJoin

// CreateBusiness inserts a business and its site in one transaction.
func (s *Store) CreateBusiness(ctx context.Context, nb NewBusiness) (Business, error) {
	b, _, err := s.CreateBusinessOnce(ctx, nb, Idempotency{})
	return b, err
}

// CreateBusinessOnce is CreateBusiness under an idempotency key (none when
// idem is zero): however many requests carry one key, concurrently or
// not, one business is created, and created is false for every request
// but the one that created it. A key used with another request fails with
// ErrIdempotencyMismatch.
func (s *Store) CreateBusinessOnce(ctx context.Context, nb NewBusiness, idem Idempotency) (Business, bool, error) {
	if nb.Status == "" {
		nb.Status = StatusReadyForOutreach
	}
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return Business{}, false, fmt.Errorf("store: create business: %w", classify(err))
	}
	defer tx.Rollback()
	id := newRowID()
	if idem.Set() {
		// The key is claimed first, inside the transaction: a concurrent
		// request with the key waits on it and, once this commits, finds
		// it taken and reads this business.
		var claimed []string
		err = tx.SelectContext(ctx, &claimed, `WITH `+claimKey(ResourceBusiness)+` SELECT resource_id FROM claimed`,
			idem.Key, idem.RequestHash, id)
		if err != nil {
			return Business{}, false, fmt.Errorf("store: create business: %w", classify(err))
		}
		if len(claimed) == 0 {
			tx.Rollback()
			return s.replayedBusiness(ctx, idem)
		}
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO businesses (id, name, city, phone, status)
		VALUES ($1, $2, $3, $4, $5)`, id, nb.Name, nb.City, nb.Phone, nb.Status)
	if err != nil {
		return Business{}, false, fmt.Errorf("store: create business: %w", classify(err))
	}
	if _, err = tx.ExecContext(ctx, `INSERT INTO sites (business_id, url) VALUES ($1, $2)`, id, nb.SiteURL); err != nil {
		return Business{}, false, fmt.Errorf("store: create site: %w", classify(err))
	}
	var b Business
	if err = tx.GetContext(ctx, &b, `SELECT `+businessColumns+` `+businessFrom+` WHERE b.id = $1`, id); err != nil {
		return Business{}, false, fmt.Errorf("store: read business: %w", classify(err))
	}
	if err := s.audit(ctx, tx, AuditBusinessCreated, "business", id, nil, businessAudit(b)); err != nil {
		return Business{}, false, err
	}
	if err = tx.Commit(); err != nil {
		return Business{}, false, fmt.Errorf("store: create business: %w", classify(err))
	}
	return b, true, nil
}

// businessAudit is a business's fields as audit rows record them.
func businessAudit(b Business) map[string]any {
	return map[string]any{"name": b.Name, "city": b.City, "phone": b.Phone, "status": b.Status, "site_url": b.SiteURL}
}

// replayedBusiness is the business an earlier request created with idem.
func (s *Store) replayedBusiness(ctx context.Context, idem Idempotency) (Business, bool, error) {
	id, err := s.replayedKey(ctx, idem, ResourceBusiness)
	if err != nil {
		return Business{}, false, err
	}
	b, err := s.GetBusiness(ctx, id)
	return b, false, err
}

// GetBusiness returns one business with its site.
func (s *Store) GetBusiness(ctx context.Context, id string) (Business, error) {
	var b Business
	err := s.db.GetContext(ctx, &b, `SELECT `+businessColumns+` `+businessFrom+` WHERE b.id = $1`, id)
	if err != nil {
		return Business{}, fmt.Errorf("store: get business %s: %w", id, classify(err))
	}
	return b, nil
}

// BusinessFilter selects a page of the businesses listing.
type BusinessFilter struct {
	Status string  // one of OutreachStatuses; "" for any
	Limit  int     // clamped to 1..500, default 100
	Cursor *Cursor // nil: the first page
}

// BusinessPage is one page of businesses by name, with the cursor of the
// next page (nil on the last).
type BusinessPage struct {
	Businesses []Business
	Next       *Cursor
}

// businessOrder is the cursor order of the businesses listing (name, id).
const businessOrder = "bname"

// ListBusinesses returns one page of businesses ordered by name, id
// breaking ties: a keyset walk of the businesses, only the page's rows
// joined to their site and outreach. A cursor of another listing is
// ErrInvalidInput.
func (s *Store) ListBusinesses(ctx context.Context, f BusinessFilter) (BusinessPage, error) {
	limit := clamp(f.Limit, 1, 500, 100)
	key, id := "", "00000000-0000-0000-0000-000000000000"
	after := false
	if f.Cursor != nil {
		if f.Cursor.Order != businessOrder || f.Cursor.Before || !IsUUID(f.Cursor.ID) {
			return BusinessPage{}, fmt.Errorf("store: cursor of another listing: %w", ErrInvalidInput)
		}
		key, id, after = f.Cursor.Key, f.Cursor.ID, true
	}
	cond := "true"
	if c, ok := outreachWhere[f.Status]; ok {
		cond = c // a fixed condition, chosen by the status
	}
	var bs []Business
	err := s.db.SelectContext(ctx, &bs, `SELECT `+businessColumns+`
		FROM (SELECT b.id, b.name, b.city, b.phone, b.status, b.external_id, b.opted_out_at, b.created_at
		      FROM businesses b
		      WHERE (NOT $1 OR (b.name, b.id) > ($2, $3::uuid)) AND `+cond+`
		      ORDER BY b.name, b.id LIMIT $4) b
		LEFT JOIN LATERAL (SELECT id, url FROM sites WHERE business_id = b.id
		                   ORDER BY created_at, id LIMIT 1) s ON true
		`+outreachJoin+`
		ORDER BY b.name, b.id`, after, key, id, limit+1)
	if err != nil {
		return BusinessPage{}, fmt.Errorf("store: list businesses: %w", classify(err))
	}
	page := BusinessPage{Businesses: bs[:min(len(bs), limit)]}
	if len(bs) > limit {
		last := page.Businesses[limit-1]
		page.Next = &Cursor{Order: businessOrder, Key: last.Name, ID: last.ID}
	}
	if page.Businesses == nil {
		page.Businesses = []Business{}
	}
	return page, nil
}

// CountBusinesses returns how many businesses exist.
func (s *Store) CountBusinesses(ctx context.Context) (int, error) {
	var n int
	if err := s.db.GetContext(ctx, &n, `SELECT COUNT(*) FROM businesses`); err != nil {
		return 0, fmt.Errorf("store: count businesses: %w", classify(err))
	}
	return n, nil
}

// CheckReferences fails with a *ReferenceError when businessID or siteID
// (either may be nil) names no row, so a request is judged the same whether
// or not its link already exists.
func (s *Store) CheckReferences(ctx context.Context, businessID, siteID *string) error {
	if businessID == nil && siteID == nil {
		return nil
	}
	var ok struct {
		Business bool `db:"business"`
		Site     bool `db:"site"`
	}
	err := s.db.GetContext(ctx, &ok, `SELECT
			$1::uuid IS NULL OR EXISTS (SELECT 1 FROM businesses WHERE id = $1::uuid) AS business,
			$2::uuid IS NULL OR EXISTS (SELECT 1 FROM sites WHERE id = $2::uuid) AS site`, businessID, siteID)
	switch {
	case err != nil:
		return fmt.Errorf("store: check references: %w", classify(err))
	case !ok.Business:
		return &ReferenceError{Column: "business_id"}
	case !ok.Site:
		return &ReferenceError{Column: "site_id"}
	}
	return nil
}
