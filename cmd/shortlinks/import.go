package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/shortlinks/shortlinks/db"
	"github.com/shortlinks/shortlinks/handlers/csvimport"
	"github.com/shortlinks/shortlinks/handlers/phone"
	"github.com/shortlinks/shortlinks/handlers/urlpolicy"
)

const businessesUsage = `usage: shortlinks businesses import [-partial] FILE

Imports a CSV lead list (header required; columns name, site_url, city,
phone, external_id in any order). Every row is checked first; a bad row is
reported with its line, column and reason, and then nothing is imported
unless -partial is given (then the good rows are). Rows whose external_id
(or, without one, phone) is already a business's update that business.
FILE - reads standard input.
`

// businesses runs "shortlinks businesses import FILE".
func businesses(ctx context.Context, cfg *config, args []string) error {
	if len(args) == 0 || args[0] != "import" {
		fmt.Fprint(os.Stderr, businessesUsage)
		return exitError{2}
	}
	fs := flag.NewFlagSet("businesses import", flag.ContinueOnError)
	partial := fs.Bool("partial", false, "import the good rows even when some are bad")
	fs.Usage = func() { fmt.Fprint(fs.Output(), businessesUsage) }
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return exitError{2}
	}
	var in io.Reader = os.Stdin
	if name := fs.Arg(0); name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	}
	store, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer store.DB().Close()
	res, err := importCSV(ctx, store, cfg, in, *partial, os.Stdout)
	if err != nil {
		return err
	}
	if res.Imported+res.Updated == 0 && len(res.Rejected) > 0 {
		return exitError{1}
	}
	return nil
}

// importCSV checks the file, imports it (or not), and prints the report.
func importCSV(ctx context.Context, store *db.Store, cfg *config, in io.Reader, partial bool, out io.Writer) (db.ImportResult, error) {
	policy := cfg.urlPolicy()
	read := csvimport.Read(in, csvimport.Rules{
		URL: func(raw string) (string, error) {
			u, err := policy.Normalize(raw)
			var perr *urlpolicy.Error
			if errors.As(err, &perr) {
				return "", errors.New(perr.Reason)
			}
			return u, err
		},
		Phone: func(raw string) (string, error) { return phone.Normalize(raw, cfg.Outreach.PhoneRegion) },
	})
	res := db.ImportResult{Rejected: rejections(read.Rejected)}
	if read.HeaderBad || (len(read.Rejected) > 0 && !partial) || len(read.Rows) == 0 {
		printImport(out, res, len(read.Rows), partial)
		return res, nil
	}
	res, _, err := store.ImportBusinesses(ctx, importRows(read.Rows), res.Rejected, db.Idempotency{})
	if err != nil {
		return db.ImportResult{}, err
	}
	printImport(out, res, 0, partial)
	return res, nil
}

func printImport(out io.Writer, res db.ImportResult, good int, partial bool) {
	for _, r := range res.Rejected {
		col := ""
		if r.Column != "" {
			col = " " + r.Column + ":"
		}
		fmt.Fprintf(out, "line %d:%s %s\n", r.Line, col, r.Reason)
	}
	fmt.Fprintf(out, "imported %d, updated %d, rejected %d\n", res.Imported, res.Updated, len(res.Rejected))
	if good > 0 && !partial {
		fmt.Fprintf(out, "nothing was imported: fix the rows above, or run with -partial to import the %d good rows\n", good)
	}
}

func importRows(rows []csvimport.Row) []db.ImportRow {
	out := make([]db.ImportRow, len(rows))
	for i, r := range rows {
		out[i] = db.ImportRow(r)
	}
	return out
}

func rejections(rej []csvimport.Rejection) []db.ImportRejection {
	out := make([]db.ImportRejection, len(rej))
	for i, r := range rej {
		out[i] = db.ImportRejection(r)
	}
	return out
}
