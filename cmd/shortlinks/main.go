// Command shortlinks is the short-link service: one binary with
// subcommands to serve, migrate, check for duplicate links and seed demo data.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/shortlinks/shortlinks/db"
)

const usage = `usage: shortlinks <command> [flags]

commands:
  serve               apply pending migrations (unless MIGRATE_ON_START=false) and serve HTTP
  dev                 like serve, but starts a project-local PostgreSQL in .data/ when
                      DATABASE_URL is unset, seeds demo data once and prints the admin login
  migrate up|up-to N|down|down-to N|status
  check-duplicates    print active duplicate links; exit 0 when none, 1 when any, 2 on error
  heal                merge duplicate links online and rebuild the unique index CONCURRENTLY,
                      printing progress; resumes an interrupted heal; exit 1 if one is running
  seed-demo           insert a dozen demo businesses into an empty database
  businesses import [-partial] FILE
                      import a CSV lead list (name, site_url, city, phone, external_id)
  users invite EMAIL --role ROLE [--name NAME]
                      create a user and print their one-time set-password link (72 h)
  users list
  keys create --name NAME --role ROLE [--expires YYYY-MM-DD]
                      create a named API key and print it (shown once)
  keys revoke NAME
  keys list
  dead-letters list|replay ID...|replay all
                      click batches the flusher could not write: list them, or write them now

Every setting comes from the environment and can be overridden by a flag;
run 'shortlinks <command> -h' to list them. With DATABASE_URL unset, migrate,
check-duplicates and seed-demo use the database of the last 'make run'
(written to .data/credentials), and say so.
`

// exitError carries a specific exit status out of a command.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	err := run(ctx, os.Args[1], os.Args[2:])
	stop()
	var ee exitError
	switch {
	case errors.As(err, &ee):
		os.Exit(ee.code)
	case errors.Is(err, flag.ErrHelp):
		os.Exit(0)
	case err != nil:
		fmt.Fprintln(os.Stderr, "shortlinks:", err)
		os.Exit(2)
	}
}

func run(ctx context.Context, cmd string, args []string) error {
	var cfg config
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	cfg.register(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg.fillSecrets()
	if err := cfg.validate(); err != nil {
		return err
	}
	if cfg.DatabaseURL == "" && (cmd == "migrate" || cmd == "check-duplicates" || cmd == "seed-demo") {
		if url, from := cliDatabaseURL(); url != "" {
			fmt.Fprintf(os.Stderr, "shortlinks: DATABASE_URL is not set; using the database 'make run' wrote to %s\n", from)
			cfg.DatabaseURL = url
		}
	}
	if cmd != "serve" && cmd != "dev" {
		// Every change a subcommand makes is audited with the actor cli.
		ctx = db.WithActor(ctx, db.CLIActor)
	}
	switch cmd {
	case "serve":
		tuneGC(os.LookupEnv) // gc.go
		return serve(ctx, &cfg)
	case "dev":
		tuneGC(os.LookupEnv)
		return dev(ctx, &cfg)
	case "migrate":
		return migrate(ctx, &cfg, fs.Args())
	case "check-duplicates":
		return checkDuplicates(ctx, &cfg)
	case "heal":
		return heal(ctx, &cfg)
	case "seed-demo":
		return seedDemo(ctx, &cfg)
	case "businesses":
		return businesses(ctx, &cfg, fs.Args())
	case "users":
		return usersCmd(ctx, &cfg, fs.Args())
	case "keys":
		return keysCmd(ctx, &cfg, fs.Args())
	case "dead-letters":
		return deadLetters(ctx, &cfg, fs.Args())
	case "help", "-h", "--help":
		fmt.Print(usage)
		return nil
	}
	fmt.Fprint(os.Stderr, usage)
	return exitError{2}
}
