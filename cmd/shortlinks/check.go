package main

import (
	"context"
	"fmt"
	"os"

	"github.com/shortlinks/shortlinks/db"
)

// checkDuplicates runs the full duplicate check now (waiting for one that
// another instance is running), stores it for every dashboard and prints
// the active duplicate groups, for cron and alerting: exit 0 when there are
// none, 1 when there are any, 2 when it cannot tell.
func checkDuplicates(ctx context.Context, cfg *config) error {
	store, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer store.DB().Close()
	c, err := store.RunDuplicateCheck(ctx, db.CheckOptions{Wait: true})
	if err != nil {
		return err
	}
	index, err := store.UniqueIndexState(ctx)
	if err != nil {
		return err
	}
	if !index.Present || !index.Valid {
		fmt.Fprintf(os.Stderr, "warning: the unique index %s is missing or invalid: run 'shortlinks heal' (creates stay free of duplicates meanwhile, more slowly)\n", db.UniqueIndexName)
	}
	took := c.FinishedAt.Sub(c.StartedAt).Seconds()
	if c.DuplicateGroups == 0 {
		fmt.Printf("ok: 0 duplicate groups (%d active links, %d inactive; checked in %.1f s)\n", c.ActiveLinks, c.InactiveLinks, took)
		return nil
	}
	fmt.Printf("FAIL: %d duplicate groups, %d active links in them (checked in %.1f s)\n", c.DuplicateGroups, c.DuplicateLinks, took)
	for _, g := range c.Groups {
		fmt.Printf("%d active links  type=%s  slugs=%v  destination=%s\n", g.Links, g.LinkType, g.Slugs, g.DestinationURL)
	}
	return exitError{1}
}
