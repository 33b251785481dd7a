package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	"github.com/shortlinks/shortlinks/db"
	"github.com/shortlinks/shortlinks/handlers/access"
)

const usersUsage = `usage:
  shortlinks users invite EMAIL --role admin|marketer|viewer [--name "Display Name"]
  shortlinks users list
`

const keysUsage = `usage:
  shortlinks keys create --name NAME --role admin|marketer|viewer [--expires YYYY-MM-DD]
  shortlinks keys revoke NAME
  shortlinks keys list
`

// usersCmd runs "shortlinks users …". Its changes are audited with the
// actor "cli".
func usersCmd(ctx context.Context, cfg *config, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(os.Stderr, usersUsage)
		return exitError{2}
	}
	fs := flag.NewFlagSet("users "+args[0], flag.ContinueOnError)
	role := fs.String("role", "", "role of the new user: admin, marketer or viewer")
	name := fs.String("name", "", "display name")
	pos, err := parseInterspersed(fs, args[1:])
	if err != nil {
		return err
	}
	ctx = db.WithActor(ctx, db.CLIActor)
	switch {
	case args[0] == "invite" && len(pos) == 1:
		return inviteUser(ctx, cfg, pos[0], *role, *name)
	case args[0] == "list" && len(pos) == 0:
		return listUsers(ctx, cfg)
	}
	fmt.Fprint(os.Stderr, usersUsage)
	return exitError{2}
}

func inviteUser(ctx context.Context, cfg *config, email, role, name string) error {
	if !access.ValidEmail(email) {
		return fmt.Errorf("users invite: %q is not an email address (at most 254 characters)", email)
	}
	if len(name) > access.MaxNameLength {
		return fmt.Errorf("users invite: --name must be at most %d characters", access.MaxNameLength)
	}
	if !access.ValidRole(role) {
		return fmt.Errorf("users invite: --role must be admin, marketer or viewer, not %q", role)
	}
	store, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer store.DB().Close()
	token := access.NewSecret(access.InvitePrefix)
	u, err := store.InviteUser(ctx, email, name, role, db.NewInvite{TokenHash: access.Hash(token), Purpose: db.InvitePurposeInvite})
	if errors.Is(err, db.ErrConflict) {
		return fmt.Errorf("users invite: %s already has an account", email)
	}
	if err != nil {
		return err
	}
	fmt.Printf("invited %s as %s; send them this link (it works once, for %d hours):\n%s%s%s\n",
		u.Email, u.Role, int(db.InviteTTL.Hours()), cfg.baseURL(), access.SetPasswordPath, token)
	return nil
}

func listUsers(ctx context.Context, cfg *config) error {
	store, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer store.DB().Close()
	users, err := store.ListUsers(ctx)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "EMAIL\tROLE\tSTATE\tLAST SIGN-IN")
	for _, u := range users {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", u.Email, u.Role, u.State(), timeOrDash(u.LastSignInAt))
	}
	return w.Flush()
}

// keysCmd runs "shortlinks keys …". The CLI acts with full rights, so a
// key of any role may be created; its changes are audited as "cli".
func keysCmd(ctx context.Context, cfg *config, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(os.Stderr, keysUsage)
		return exitError{2}
	}
	fs := flag.NewFlagSet("keys "+args[0], flag.ContinueOnError)
	name := fs.String("name", "", "name of the key (letters, digits, . _ -)")
	role := fs.String("role", "", "role of the key: admin, marketer or viewer")
	expires := fs.String("expires", "", "last day the key works, YYYY-MM-DD (UTC); default: never expires")
	pos, err := parseInterspersed(fs, args[1:])
	if err != nil {
		return err
	}
	ctx = db.WithActor(ctx, db.CLIActor)
	switch {
	case args[0] == "create" && len(pos) == 0:
		return createKey(ctx, cfg, *name, *role, *expires)
	case args[0] == "revoke" && len(pos) == 1:
		return revokeKey(ctx, cfg, pos[0])
	case args[0] == "list" && len(pos) == 0:
		return listKeys(ctx, cfg)
	}
	fmt.Fprint(os.Stderr, keysUsage)
	return exitError{2}
}

func createKey(ctx context.Context, cfg *config, name, role, expires string) error {
	nk, err := access.ParseNewKey(name, role, expires, time.Now())
	if err != nil {
		return fmt.Errorf("keys create: %w", err)
	}
	store, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer store.DB().Close()
	key := access.NewSecret(access.KeyPrefix)
	k, err := store.CreateAPIKey(ctx, db.NewAPIKey{Name: nk.Name, Role: nk.Role, ExpiresAt: nk.ExpiresAt,
		Hash: access.Hash(key), Hint: access.Hint(key)})
	if errors.Is(err, db.ErrConflict) {
		return fmt.Errorf("keys create: a key named %q exists; revoke it first or pick another name", name)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "created key %q (%s, expires %s); it is shown once, here:\n", k.Name, k.Role, timeOrDash(k.ExpiresAt))
	fmt.Println(key)
	return nil
}

func revokeKey(ctx context.Context, cfg *config, name string) error {
	store, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer store.DB().Close()
	if _, err := store.RevokeAPIKeyByName(ctx, name); errors.Is(err, db.ErrNotFound) {
		return fmt.Errorf("keys revoke: no live key is named %q", name)
	} else if err != nil {
		return err
	}
	fmt.Printf("revoked key %q\n", name)
	return nil
}

func listKeys(ctx context.Context, cfg *config) error {
	store, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer store.DB().Close()
	keys, err := store.ListAPIKeys(ctx, 0)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "NAME\tROLE\tKEY\tOWNER\tEXPIRES\tLAST USED")
	for _, k := range keys {
		owner := k.CreatedBy
		if k.Owner != nil {
			owner = *k.Owner
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", k.Name, k.Role, k.Hint, owner, timeOrDash(k.ExpiresAt), timeOrDash(k.LastUsedAt))
	}
	return w.Flush()
}

// parseInterspersed parses flags anywhere among the arguments ("invite
// EMAIL --role admin" as well as "invite --role admin EMAIL") and returns
// the positional ones.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

func timeOrDash(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.UTC().Format(time.DateTime)
}
