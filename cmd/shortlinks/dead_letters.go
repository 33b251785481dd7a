package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"

	"github.com/shortlinks/shortlinks/db"
)

// deadLetters lists the click batches the flusher could not write
// ("dead-letters list") or replays them ("dead-letters replay ID…" or
// "dead-letters replay all"): exit 0 when every replay succeeded, 1 when
// one failed, 2 on a usage or connection error.
func deadLetters(ctx context.Context, cfg *config, args []string) error {
	if len(args) == 0 || (args[0] != "list" && args[0] != "replay") || (args[0] == "replay" && len(args) < 2) {
		fmt.Fprint(os.Stderr, "usage: shortlinks dead-letters list | replay ID... | replay all\n")
		return exitError{2}
	}
	store, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer store.DB().Close()
	// A replay is a change the audit trail records, as the CLI's.
	ctx = db.WithActor(ctx, db.CLIActor)
	letters, err := store.ClickDeadLetters(ctx, 500)
	if err != nil {
		return err
	}
	if args[0] == "list" {
		if len(letters) == 0 {
			fmt.Println("no click dead letters")
		}
		for _, l := range letters {
			fmt.Printf("%d  link=%d slug=%s clicks=%d previews=%d attempts=%d since=%s  %s\n", l.ID, l.LinkID,
				deref(l.Slug), l.Clicks, l.Previews, l.Attempts, l.CreatedAt.UTC().Format("2006-01-02T15:04:05Z"), l.Error)
		}
		return nil
	}
	var ids []int64
	if args[1] == "all" {
		for _, l := range letters {
			ids = append(ids, l.ID)
		}
	} else {
		for _, a := range args[1:] {
			id, err := strconv.ParseInt(a, 10, 64)
			if err != nil || id < 1 {
				return fmt.Errorf("dead-letters replay: %q is not a letter id", a)
			}
			ids = append(ids, id)
		}
	}
	failed := 0
	for _, id := range ids {
		l, err := store.ReplayClickDeadLetter(ctx, id)
		switch {
		case errors.Is(err, db.ErrNotFound):
			fmt.Printf("%d: no such letter (already replayed?)\n", id)
		case err != nil:
			failed++
			fmt.Printf("%d: FAILED: %v\n", id, err)
		default:
			fmt.Printf("%d: replayed %d clicks, %d previews on link %d\n", id, l.Clicks, l.Previews, l.LinkID)
		}
	}
	if failed > 0 {
		return exitError{1}
	}
	return nil
}

func deref(s *string) string {
	if s == nil {
		return "(deleted)"
	}
	return *s
}
