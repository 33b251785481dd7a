// Package db is the storage layer: one Store over *sqlx.DB that every
// handler shares. Nothing here knows about HTTP.
package db

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// Sentinel errors; callers test them with errors.Is.
var (
	// ErrNotFound means the requested row does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict means the change would break a uniqueness rule, such as a
	// second active link for one destination.
	ErrConflict = errors.New("conflict")
	// ErrReference means a referenced business or site does not exist; the
	// error is a *ReferenceError naming the column.
	ErrReference = errors.New("referenced row does not exist")
	// ErrInvalidInput means PostgreSQL refused a value (invalid text
	// encoding, out-of-range number): bad input that validation missed.
	ErrInvalidInput = errors.New("invalid input")
	// ErrUnavailable means the database could not be reached in time.
	ErrUnavailable = errors.New("database unavailable")
)

// Options tunes a Store. Zero values pick the defaults.
type Options struct {
	SlugLength   int    // default 6
	SlugAlphabet string // default Base62; tests shrink it to force collisions
	// NewSlug replaces the random generator (tests use it to script
	// collisions); nil means random slugs from SlugAlphabet.
	NewSlug func() (string, error)
	// ReservedSlugs are words a generated slug never equals in any case:
	// the app's top-level routes, which a slug would shadow or be shadowed
	// by. The route table owns them (handlers.ReservedSlugs).
	ReservedSlugs []string
	// Log receives the store's own lines, written with the caller's
	// context (so a request's lines carry its ID); nil discards them.
	Log *slog.Logger
	// FlushStatementTimeout bounds each statement of a click flush
	// (FLUSH_STATEMENT_TIMEOUT), apart from the pool's serving timeout: a
	// flush writes a batch of thousands of rows, which a timeout tuned
	// for one-row requests would cut every time. Zero keeps the pool's.
	FlushStatementTimeout time.Duration
	// WalkSearches makes every listing search walk the listing's order,
	// never read its matches whole and sort them (see sortsAllMatches);
	// tests use it to run both plans.
	WalkSearches bool
	// VariantWalk is how many sends each statement of VariantBusinesses'
	// walk of a window ending in the past reads (at most
	// variantWalkBatches statements before it groups the window instead;
	// see variantBusinessesInThePast); zero is 2,000. Tests set it small to
	// run both plans.
	VariantWalk int
}

// Store is the repository shared by every handler.
type Store struct {
	db           *sqlx.DB
	newSlug      func() (string, error)
	log          *slog.Logger
	walkSearches bool // search.go
	variantWalk  int  // Options.VariantWalk (variant_businesses.go)
	// flushTimeout is Options.FlushStatementTimeout.
	flushTimeout time.Duration

	linksCreated      atomic.Int64
	conflictsResolved atomic.Int64
	persisted         persistedCounters // counters.go
	guarantee         guarantee         // links_degraded.go
	redirectStmt      preparedStmt      // redirects.go
}

// Open connects to PostgreSQL at url and checks the connection.
func Open(ctx context.Context, url string) (*sqlx.DB, error) {
	conn, err := sqlx.Open("postgres", url)
	if err != nil {
		return nil, fmt.Errorf("store: unable to open database: %w", err)
	}
	conn.SetMaxOpenConns(40)
	conn.SetMaxIdleConns(40)
	conn.SetConnMaxIdleTime(5 * time.Minute)
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := conn.PingContext(pingCtx); err != nil {
		conn.Close()
		return nil, fmt.Errorf("store: unable to reach database: %w", err)
	}
	return conn, nil
}

// New returns a Store over conn.
func New(conn *sqlx.DB, opts Options) *Store {
	newSlug := opts.NewSlug
	if newSlug == nil {
		newSlug = newSlugGen(opts.SlugLength, opts.SlugAlphabet, opts.ReservedSlugs).next
	}
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Store{db: conn, newSlug: newSlug, log: log, walkSearches: opts.WalkSearches, flushTimeout: opts.FlushStatementTimeout,
		variantWalk: cmp.Or(opts.VariantWalk, 2000)}
}

// DB returns the underlying connection pool (for migrations and health checks).
func (s *Store) DB() *sqlx.DB { return s.db }

// Ping reports whether the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return fmt.Errorf("store: ping: %w", classify(err))
	}
	return nil
}

// Counters are process-lifetime totals, for metrics and the health page.
type Counters struct {
	LinksCreated      int64
	ConflictsResolved int64
}

// Counters returns the totals since the process started.
func (s *Store) Counters() Counters {
	return Counters{
		LinksCreated:      s.linksCreated.Load(),
		ConflictsResolved: s.conflictsResolved.Load(),
	}
}

// classify maps driver errors onto the sentinels callers act on.
func classify(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, sql.ErrNoRows):
		return ErrNotFound
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	var pqErr *pq.Error
	if errors.As(err, &pqErr) {
		switch pqErr.Code.Class() {
		case "08", "53", "57": // connection exception, insufficient resources, operator intervention (shutdown, statement timeout)
			return fmt.Errorf("%w: %w", ErrUnavailable, err)
		case "22": // data exception
			return fmt.Errorf("%w: %w", ErrInvalidInput, err)
		}
		return err
	}
	// Network errors from the driver (connection refused, broken pipe).
	if errors.Is(err, sql.ErrConnDone) || isNetErr(err) {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return err
}

// ReferenceError names the column whose referenced row does not exist.
type ReferenceError struct{ Column string }

func (e *ReferenceError) Error() string { return e.Column + " refers to a row that does not exist" }

// Is makes errors.Is(err, ErrReference) match.
func (e *ReferenceError) Is(target error) bool { return target == ErrReference }

// referenceError turns a foreign-key violation into a *ReferenceError.
func referenceError(err error) error {
	var pqErr *pq.Error
	if !errors.As(err, &pqErr) || pqErr.Code != "23503" {
		return nil
	}
	column := strings.TrimSuffix(strings.TrimPrefix(pqErr.Constraint, "short_links_"), "_fkey")
	return &ReferenceError{Column: column}
}

// isUniqueViolation reports whether err is a unique violation on constraint.
func isUniqueViolation(err error, constraint string) bool {
	var pqErr *pq.Error
	return errors.As(err, &pqErr) && pqErr.Code == "23505" && pqErr.Constraint == constraint
}

// WithTimeouts returns url with a connect timeout and a statement timeout
// added (unless it sets them already), so a stalled server or a runaway
// query fails a request instead of hanging it. Migrations use the plain URL:
// building an index on a large table may rightly take longer.
func WithTimeouts(rawURL string, connect, statement time.Duration) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "", errors.New("store: DATABASE_URL must be a postgres:// URL")
	}
	q := u.Query()
	if !q.Has("connect_timeout") && connect > 0 {
		q.Set("connect_timeout", strconv.Itoa(int(max(connect.Seconds(), 1))))
	}
	if !q.Has("statement_timeout") && statement > 0 {
		q.Set("statement_timeout", strconv.FormatInt(statement.Milliseconds(), 10))
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}
