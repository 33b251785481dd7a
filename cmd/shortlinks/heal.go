package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/shortlinks/shortlinks/db"
)

// heal runs the online heal (db.Store.Heal) in the foreground and prints
// its progress: what the console's "Heal now" starts in the background.
// It merges every duplicate group in batches, then builds the unique index
// CONCURRENTLY; the service keeps serving meanwhile. Interrupted (Ctrl-C,
// kill -9) it can simply be run again: it resumes. Exit 0 when the index is
// in force, 1 when another heal is running, 2 on error.
func heal(ctx context.Context, cfg *config) error {
	store, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer store.DB().Close()
	// The heal's audit rows name the CLI as the actor.
	ctx = db.WithActor(ctx, db.CLIActor)
	var lastPrint time.Time
	run, err := store.Heal(ctx, db.HealOptions{Source: "cli", Progress: func(r db.HealRun) {
		// At most a line a second, but always the end of each phase.
		phaseEnd := r.State != "scanning" && r.GroupsDone == r.GroupsFound
		if time.Since(lastPrint) < time.Second && !phaseEnd {
			return
		}
		lastPrint = time.Now()
		fmt.Println(healProgressLine(r, time.Now()))
	}})
	switch {
	case errors.Is(err, db.ErrHealRunning):
		fmt.Fprintln(os.Stderr, "another heal is running (see /admin/health); run this again once it has finished")
		return exitError{1}
	case err != nil && ctx.Err() != nil:
		fmt.Fprintf(os.Stderr, "heal run %d interrupted at %s; run 'shortlinks heal' again to resume\n", run.ID, healProgressLine(run, time.Now()))
		return exitError{2}
	case err != nil:
		return err
	}
	took := time.Duration(0)
	if run.FinishedAt != nil {
		took = run.FinishedAt.Sub(run.StartedAt).Round(100 * time.Millisecond)
	}
	fmt.Printf("healed: run %d, %d duplicate destinations, %d links merged into the oldest of each, in %s; %s is in force\n",
		run.ID, run.GroupsDone, run.LinksMerged, took, db.UniqueIndexName)
	return nil
}

// healProgressLine is one line of progress: the phase, destinations done
// of total and the time left.
func healProgressLine(r db.HealRun, now time.Time) string {
	eta := ""
	if d := r.ETA(now); d > 0 {
		eta = ", about " + d.String() + " left"
	}
	switch r.State {
	case "scanning":
		return fmt.Sprintf("run %d: finding duplicates, %d%% of destinations scanned, %d duplicate destinations so far%s",
			r.ID, r.RangesDone*100/db.HealScanRanges, r.GroupsFound, eta)
	case "healing":
		return fmt.Sprintf("run %d: merging, %d of %d duplicate destinations done, %d links merged%s",
			r.ID, r.GroupsDone, r.GroupsFound, r.LinksMerged, eta)
	case "indexing":
		return fmt.Sprintf("run %d: building %s concurrently (%d destinations merged)", r.ID, db.UniqueIndexName, r.GroupsDone)
	}
	return fmt.Sprintf("run %d: %s", r.ID, r.State)
}
