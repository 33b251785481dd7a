// Package migrations holds the goose SQL migrations, embedded so the binary
// can migrate any database without the source tree.
package migrations

import "embed"

// FS is the embedded migration files, for goose.NewProvider.
//
//go:embed *.sql
var FS embed.FS
