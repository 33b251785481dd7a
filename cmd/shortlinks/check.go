package main

import (
	"context"
	"fmt"
	"os"

	"github.com/shortlinks/shortlinks/db"
)

// checkDuplicates prints active duplicate groups, for cron and alerting:
// exit 0 when there are none, 1 when there are any, 2 when it cannot tell.
func checkDuplicates(ctx context.Context, cfg *config) error {
	store, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer store.DB().Close()
	h, err := store.Health(ctx)
	if err != nil {
		return err
	}
	groups, err := store.DuplicateGroups(ctx)
	if err != nil {
		return err
	}
	if !h.UniqueIndexPresent {
		fmt.Fprintf(os.Stderr, "warning: the unique index %s is missing: run 'shortlinks migrate up'\n", db.UniqueIndexName)
	}
	if len(groups) == 0 {
		fmt.Printf("ok: 0 duplicate groups (%d active links, %d inactive)\n", h.ActiveLinks, h.InactiveLinks)
		return nil
	}
	fmt.Printf("FAIL: %d duplicate groups, %d active links in them\n", h.DuplicateGroups, h.DuplicateLinks)
	for _, g := range groups {
		fmt.Printf("%d active links  type=%s  slugs=%v  destination=%s\n", g.Links, g.LinkType, g.Slugs, g.DestinationURL)
	}
	return exitError{1}
}
