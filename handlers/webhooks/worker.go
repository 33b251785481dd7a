package webhooks

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/shortlinks/shortlinks/db"
)

// Store is the part of db.Store the worker uses.
type Store interface {
	LeaseWebhookDeliveries(ctx context.Context, n int, lease time.Duration) ([]db.WebhookDelivery, error)
	LeaseWebhookProbes(ctx context.Context, every, lease time.Duration) ([]db.WebhookDelivery, error)
	WebhooksDelivered(ctx context.Context, acks []db.Acknowledged) error
	WebhookFailed(ctx context.Context, d db.WebhookDelivery, f db.WebhookFailure) error
	PruneWebhookDeliveries(ctx context.Context, delivered, failed time.Time, limit int) (int64, error)
}

// Options configures delivery. Zero values pick the defaults.
type Options struct {
	URLs         []string // WEBHOOK_URLS: endpoints managed by configuration
	Secret       Secret   // WEBHOOK_SECRET, parsed: what configured endpoints sign with
	AllowPrivate bool     // WEBHOOK_ALLOW_PRIVATE

	// RotationOverlap is how long a rotated-out secret keeps signing beside
	// the new one (WEBHOOK_SECRET_OVERLAP; cmd's default is DefaultOverlap).
	// Unlike the settings below, zero means zero: no overlap.
	RotationOverlap time.Duration

	Concurrency  int           // requests in flight per instance (default 8)
	Timeout      time.Duration // one request, connect to last byte (default 15 s)
	PollInterval time.Duration // how often due deliveries are looked for (default 1 s)
	BaseDelay    time.Duration // first retry delay (default 5 s), tripled per attempt
	MaxDelay     time.Duration // longest delay between two attempts (default 2 h)
	RetryFor     time.Duration // how long after its event a delivery is retried (default 72 h)
	SuspendAfter int           // consecutive failures that suspend an endpoint (default 5)
	ProbeEvery   time.Duration // how often a suspended endpoint is tried (default 30 s)
}

// Defaults for Options.
const (
	DefaultConcurrency  = 8
	DefaultTimeout      = 15 * time.Second
	DefaultPollInterval = time.Second
	DefaultBaseDelay    = 5 * time.Second
	DefaultMaxDelay     = 2 * time.Hour
	DefaultRetryFor     = 72 * time.Hour
	DefaultSuspendAfter = 5
	DefaultProbeEvery   = 30 * time.Second
	DefaultOverlap      = 24 * time.Hour
)

// Retention of the delivery log.
const (
	keepDelivered = 7 * 24 * time.Hour
	keepFailed    = 30 * 24 * time.Hour
	pruneEvery    = time.Hour
	pruneBatch    = 10_000
	storeTimeout  = 10 * time.Second
	maxAckBatch   = 256
)

func (o Options) withDefaults() Options {
	def := func(p *time.Duration, d time.Duration) {
		if *p <= 0 {
			*p = d
		}
	}
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultConcurrency
	}
	if o.SuspendAfter <= 0 {
		o.SuspendAfter = DefaultSuspendAfter
	}
	def(&o.Timeout, DefaultTimeout)
	def(&o.PollInterval, DefaultPollInterval)
	def(&o.BaseDelay, DefaultBaseDelay)
	def(&o.MaxDelay, DefaultMaxDelay)
	def(&o.RetryFor, DefaultRetryFor)
	def(&o.ProbeEvery, DefaultProbeEvery)
	return o
}

// Worker sends due deliveries with a bounded pool; build it with Start,
// stop it with Close. Several instances each run one against the same
// database: leases keep them from sending the same delivery at once.
type Worker struct {
	store  Store
	opts   Options
	log    *slog.Logger
	sender *sender

	stop      chan struct{}
	done      chan struct{}
	abort     context.CancelFunc // ends requests in flight when Close runs out of time
	slotFreed chan struct{}
	acks      chan db.Acknowledged // successes, recorded in batches by record
	closeOnce sync.Once
}

// Start runs a Worker until Close.
func Start(store Store, opts Options, log *slog.Logger) *Worker {
	opts = opts.withDefaults()
	ctx, cancel := context.WithCancel(context.Background())
	w := &Worker{
		store: store, opts: opts, log: log,
		sender:    newSender(opts),
		stop:      make(chan struct{}),
		done:      make(chan struct{}),
		abort:     cancel,
		slotFreed: make(chan struct{}, 1),
		acks:      make(chan db.Acknowledged, opts.Concurrency),
	}
	go func() {
		defer close(w.done)
		w.run(ctx)
	}()
	return w
}

// Close stops leasing, waits for requests in flight until ctx ends and
// then abandons them: their leases run out and they are sent again later.
func (w *Worker) Close(ctx context.Context) error {
	w.closeOnce.Do(func() { close(w.stop) })
	select {
	case <-w.done:
		return nil
	case <-ctx.Done():
		w.abort()
		<-w.done
		return errors.New("webhooks: requests still in flight at shutdown were abandoned; they will be sent again")
	}
}

// lease is how long a leased delivery is kept from other workers: longer
// than it can wait in the queue (behind at most one request per sender)
// plus its own request.
func (w *Worker) lease() time.Duration { return 2*w.opts.Timeout + 30*time.Second }

// run feeds a queue as deep as the pool: it leases a batch whenever half of
// the queue is free, so one lease statement serves many deliveries, and
// sleeps only when nothing is due or the queue is full. Concurrency senders
// take deliveries from the queue.
func (w *Worker) run(ctx context.Context) {
	queue := make(chan db.WebhookDelivery, w.opts.Concurrency)
	var senders sync.WaitGroup
	for range w.opts.Concurrency {
		senders.Add(1)
		go func() {
			defer senders.Done()
			for d := range queue {
				w.deliver(ctx, d)
				select {
				case w.slotFreed <- struct{}{}:
				default:
				}
			}
		}()
	}
	recorded := make(chan struct{})
	go func() {
		defer close(recorded)
		w.record()
	}()
	// On stop, what is queued is sent (it is leased), then the senders end,
	// then their last successes are recorded.
	defer func() {
		close(queue)
		senders.Wait()
		close(w.acks)
		<-recorded
	}()

	var pruned, probed time.Time
	for {
		if time.Since(pruned) >= pruneEvery {
			w.prune(ctx)
			pruned = time.Now()
		}
		room := cap(queue) - len(queue)
		var ds []db.WebhookDelivery
		if room >= (cap(queue)+1)/2 {
			probe := time.Since(probed) >= w.opts.PollInterval
			if probe {
				probed = time.Now()
			}
			ds = w.leaseDue(ctx, room, probe)
		}
		for _, d := range ds {
			queue <- d // never blocks: only this loop sends, and room was free
		}
		if len(ds) > 0 && len(ds) == room {
			continue // more may be due; the senders set the pace
		}
		// Wake at the next poll, or as soon as a sender frees room when the
		// queue is too full to lease.
		var slot <-chan struct{}
		if cap(queue)-len(queue) < (cap(queue)+1)/2 || len(ds) > 0 {
			slot = w.slotFreed
		}
		t := time.NewTimer(w.opts.PollInterval)
		select {
		case <-w.stop:
		case <-ctx.Done():
		case <-slot:
		case <-t.C:
		}
		t.Stop()
		select {
		case <-w.stop:
			return
		case <-ctx.Done():
			return
		default:
		}
	}
}

// leaseDue takes, when probe is set, probes of suspended endpoints first,
// then due deliveries, up to n in all. A database error is logged and
// leaves the turn empty.
func (w *Worker) leaseDue(ctx context.Context, n int, probe bool) []db.WebhookDelivery {
	lctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	var probes []db.WebhookDelivery
	if probe {
		var err error
		probes, err = w.store.LeaseWebhookProbes(lctx, w.opts.ProbeEvery, w.lease())
		if err != nil {
			w.log.Warn("webhooks: lease probes", "err", err)
			return nil
		}
		if n -= len(probes); n <= 0 {
			return probes
		}
	}
	ds, err := w.store.LeaseWebhookDeliveries(lctx, n, w.lease())
	if err != nil {
		w.log.Warn("webhooks: lease deliveries", "err", err)
	}
	return append(probes, ds...)
}

// deliver sends d once and records the outcome. A result that cannot be
// recorded is logged: the lease runs out and d is sent again (at least
// once, never lost).
func (w *Worker) deliver(ctx context.Context, d db.WebhookDelivery) {
	res := w.sender.send(ctx, d)
	if ctx.Err() != nil {
		return // abandoned at shutdown: not the endpoint's failure; the lease runs out
	}
	if res.ok() {
		w.acks <- db.Acknowledged{Delivery: d, Status: res.status}
		return
	}
	rctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	err := w.store.WebhookFailed(rctx, d, db.WebhookFailure{
		Status: res.status, Error: res.err,
		RetryAt:      time.Now().Add(retryDelay(d.Attempts, w.opts.BaseDelay, w.opts.MaxDelay, res.retryAfter)),
		Suspend:      res.gone(),
		SuspendAfter: w.opts.SuspendAfter,
		ProbeEvery:   w.opts.ProbeEvery,
		RetryFor:     w.opts.RetryFor,
	})
	w.log.Debug("webhook delivery failed", "url", d.URL, "webhook_id", d.MsgID, "attempt", d.Attempts, "status", res.status, "err", res.err)
	if err != nil {
		w.log.Warn("webhooks: recording a failed attempt failed; it will be sent again", "webhook_id", d.MsgID, "err", err)
	}
}

// record writes successes in batches: it waits for one, takes whatever
// else is already waiting (up to maxAckBatch), and writes them in one
// statement, so under load one statement serves many deliveries while an
// idle worker adds no delay. It ends when acks is closed and drained.
func (w *Worker) record() {
	for first := range w.acks {
		batch := []db.Acknowledged{first}
	more:
		for len(batch) < maxAckBatch {
			select {
			case a, ok := <-w.acks:
				if !ok {
					break more
				}
				batch = append(batch, a)
			default:
				break more
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
		if err := w.store.WebhooksDelivered(ctx, batch); err != nil {
			// Their leases run out and they are sent again: at least once.
			w.log.Warn("webhooks: recording deliveries failed; they will be sent again", "deliveries", len(batch), "err", err)
		}
		cancel()
	}
}

// prune trims the delivery log, a bounded batch at a time.
func (w *Worker) prune(ctx context.Context) {
	now := time.Now()
	for {
		pctx, cancel := context.WithTimeout(ctx, storeTimeout)
		n, err := w.store.PruneWebhookDeliveries(pctx, now.Add(-keepDelivered), now.Add(-keepFailed), pruneBatch)
		cancel()
		if err != nil {
			w.log.Warn("webhooks: prune delivery log", "err", err)
			return
		}
		if n < pruneBatch {
			return
		}
	}
}
