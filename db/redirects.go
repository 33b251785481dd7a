package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lib/pq"
)

// RedirectTarget is the part of a link the redirect path needs. For a
// superseded link it describes the link it was merged into (ID, destination,
// whether it is active) and TappedID names the superseded link itself;
// otherwise TappedID is ID. Slug is the slug asked for.
type RedirectTarget struct {
	Slug           string `db:"slug"`
	ID             int64  `db:"id"`
	DestinationURL string `db:"destination_url"`
	IsActive       bool   `db:"is_active"`
	TappedID       int64  `db:"tapped_id"`
}

// redirectTargetsSQL reads only the columns a redirect needs, active or not
// (a deactivated link answers 410), for every slug of $1 at once: the
// redirect path's cache misses that arrive together share this one
// statement (handlers/redirects/batch.go), since PostgreSQL's cost per
// single-row query is mostly per statement. slug = ANY($1) is an index scan
// of short_links_slug_key with the array as its keys; slugs with no link
// simply have no row.
//
// A superseded link is answered with its survivor, one level deep (a heal
// always points at an active link), so its slug redirects exactly like the
// survivor's, and answers 410 once the survivor is retired; the change
// trigger (00007) invalidates both slugs. Explicit columns: a prepared
// statement's result type must not change under it when a migration adds
// columns.
const redirectTargetsSQL = `SELECT l.slug, COALESCE(v.id, l.id) AS id,
		COALESCE(v.destination_url, l.destination_url) AS destination_url,
		COALESCE(v.is_active, l.is_active) AS is_active, l.id AS tapped_id
	FROM short_links l
	LEFT JOIN short_links v ON v.id = l.superseded_by
	WHERE l.slug = ANY($1::text[])`

// MaxRedirectBatch bounds the slugs of one RedirectTargets call.
const MaxRedirectBatch = 1000

// RedirectTargets looks up the links behind slugs in one statement and
// returns those found (a slug with no link is simply absent). It runs as
// a prepared statement: lib/pq sends an unprepared query with arguments as
// two round trips (parse, then bind and execute), a prepared one as one,
// and the cache misses of the redirect path are latency-bound on exactly
// that.
func (s *Store) RedirectTargets(ctx context.Context, slugs []string) ([]RedirectTarget, error) {
	if len(slugs) > MaxRedirectBatch {
		return nil, fmt.Errorf("store: redirect targets: %d slugs, at most %d: %w", len(slugs), MaxRedirectBatch, ErrInvalidInput)
	}
	stmt, err := s.redirectStmt.get(ctx, s.db.DB, redirectTargetsSQL)
	if err != nil {
		return nil, fmt.Errorf("store: redirect targets: %w", classify(err))
	}
	rows, err := stmt.QueryContext(ctx, pq.StringArray(slugs))
	if err != nil {
		return nil, fmt.Errorf("store: redirect targets: %w", classify(err))
	}
	defer rows.Close()
	out := make([]RedirectTarget, 0, len(slugs))
	for rows.Next() {
		var t RedirectTarget
		if err := rows.Scan(&t.Slug, &t.ID, &t.DestinationURL, &t.IsActive, &t.TappedID); err != nil {
			return nil, fmt.Errorf("store: redirect targets: %w", classify(err))
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: redirect targets: %w", classify(err))
	}
	return out, nil
}

// preparedStmt is a statement prepared on the pool the first time it is
// needed (a database that is down at start-up only delays it). database/sql
// then prepares it on each connection at that connection's first use and
// again on connections opened later, so every execution is one round trip.
type preparedStmt struct {
	mu   sync.Mutex
	stmt atomic.Pointer[sql.Stmt]
}

func (p *preparedStmt) get(ctx context.Context, pool *sql.DB, query string) (*sql.Stmt, error) {
	if st := p.stmt.Load(); st != nil {
		return st, nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if st := p.stmt.Load(); st != nil {
		return st, nil
	}
	st, err := pool.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	p.stmt.Store(st)
	return st, nil
}

// LinkChangesChannel is the NOTIFY channel on which the short_links trigger
// (migration 00002) publishes the slug of every inserted, deleted,
// (de)activated or re-pointed link.
const LinkChangesChannel = "short_links_changed"

// LinkChangeHandler receives the link change feed. Changed gets the slug
// of a changed link. Resync is called whenever notifications may have been
// missed (the connection was lost and is back): every cached link is then
// suspect. Connected reports whether changes are being delivered. Calls
// come from the listener's goroutines, so implementations must be safe for
// concurrent use, and must return quickly.
type LinkChangeHandler interface {
	Changed(slug string)
	Resync()
	Connected(up bool)
}

// LinkChanges follows the link change feed over a dedicated connection
// (LISTEN cannot share the pool), reconnecting by itself when the database
// goes away. Build it with ListenLinkChanges; Close stops it.
type LinkChanges struct {
	l    *pq.Listener
	done chan struct{}
	once sync.Once
}

// pingEvery is how often the listening connection is checked.
const pingEvery = 5 * time.Second

// ListenLinkChanges connects to url and delivers link changes to h until
// Close. It does not wait for the connection: until the first connect,
// h.Connected(true) has simply not been called yet.
func ListenLinkChanges(url string, h LinkChangeHandler, log *slog.Logger) *LinkChanges {
	events := func(ev pq.ListenerEventType, err error) {
		switch ev {
		case pq.ListenerEventConnected:
			// Not listening yet: the first connection comes before LISTEN
			// runs, so the feed is reported up when Listen returns (below).
		case pq.ListenerEventReconnected:
			// pq has re-run LISTEN on the new connection by now.
			h.Resync()
			h.Connected(true)
			log.Info("link change feed reconnected")
		case pq.ListenerEventDisconnected:
			h.Connected(false)
			log.Warn("link change feed lost; cached links now expire quickly", "err", err)
		case pq.ListenerEventConnectionAttemptFailed:
			log.Debug("link change feed: connection attempt failed", "err", err)
		}
	}
	lc := &LinkChanges{
		l:    pq.NewListener(url, 100*time.Millisecond, 5*time.Second, events),
		done: make(chan struct{}),
	}
	go func() {
		// Listen blocks until the first connection; the channel is then
		// re-listened by pq after every reconnect.
		if err := lc.l.Listen(LinkChangesChannel); err != nil && !errors.Is(err, pq.ErrChannelAlreadyOpen) {
			log.Debug("link change feed: listen", "err", err)
			return
		}
		h.Resync() // anything cached before this moment was unwatched
		h.Connected(true)
	}()
	go lc.dispatch(h, log)
	return lc
}

// dispatch hands notifications to h until the listener is closed. It also
// pings the connection: a ping still unanswered one period later means the
// connection is silently dead (no RST, e.g. a network partition), which pq
// would only notice after TCP gives up, so the feed is reported down now.
func (lc *LinkChanges) dispatch(h LinkChangeHandler, log *slog.Logger) {
	defer close(lc.done)
	ping := time.NewTicker(pingEvery)
	defer ping.Stop()
	pong := make(chan error, 1) // buffered: a late answer never blocks
	pinging, stalled := false, false
	for {
		select {
		case n, ok := <-lc.l.Notify:
			if !ok {
				return
			}
			if n != nil { // nil follows a reconnect, already handled by Resync
				h.Changed(n.Extra)
			}
		case <-ping.C:
			if !pinging {
				pinging = true
				go func() { pong <- lc.l.Ping() }()
			} else if !stalled {
				stalled = true
				h.Connected(false)
				log.Warn("link change feed is not answering; cached links now expire quickly")
			}
		case err := <-pong:
			pinging = false
			if err == nil && stalled {
				stalled = false
				h.Resync()
				h.Connected(true)
			}
		}
	}
}

// Close stops listening and waits briefly for the dispatcher to finish. It
// is safe to call more than once.
func (lc *LinkChanges) Close() {
	lc.once.Do(func() {
		lc.l.Close()
		select {
		case <-lc.done:
		case <-time.After(2 * time.Second): // pq may sit in a reconnect back-off
		}
	})
}
