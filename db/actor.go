package db

import "context"

// Actor kinds: who a change is recorded against in the audit trail.
const (
	ActorUser      = "user"      // a person signed in to the console
	ActorKey       = "key"       // a named API key
	ActorToken     = "token"     // one of the bootstrap API_TOKEN keys
	ActorCLI       = "cli"       // a shortlinks subcommand
	ActorSystem    = "system"    // the service itself (the hourly check)
	ActorAnonymous = "anonymous" // nobody yet: a failed sign-in
)

// Actor is who is acting, carried in the context from the edge (the
// request's authentication, the CLI) to the store, which writes it into
// every audit row and into created_by columns.
type Actor struct {
	Kind   string
	Name   string // email, "key:NAME", "API_TOKEN", "cli", "system"
	UserID int64  // the user, or the key's owner; 0 when none
	Client string // client address; "" outside HTTP
}

// CLIActor is the actor of every shortlinks subcommand.
var CLIActor = Actor{Kind: ActorCLI, Name: "cli"}

// SystemActor is the actor of changes nobody asked for at that moment.
var SystemActor = Actor{Kind: ActorSystem, Name: "system"}

type actorKey struct{}

// WithActor returns ctx carrying a.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the actor ctx carries; SystemActor when none.
func ActorFrom(ctx context.Context) Actor {
	if a, ok := ctx.Value(actorKey{}).(Actor); ok && a.Name != "" {
		return a
	}
	return SystemActor
}

// createdBy is what created_by columns record: the actor's name.
func createdBy(ctx context.Context) string { return ActorFrom(ctx).Name }
