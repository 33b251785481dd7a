package main

import (
	"context"
	"fmt"
	"os"
	"sort"
	"text/tabwriter"

	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq"
)

// report prints the run's figures and fails when a guarantee was broken:
// a duplicate group, a click served but not counted (or counted twice), a
// 5xx, or one destination answered with two slugs.
func report(ctx context.Context, dbURL string, res *results, instances []*instance, opts options) error {
	conn, err := sqlx.ConnectContext(ctx, "postgres", dbURL)
	if err != nil {
		return err
	}
	defer conn.Close()
	var counted int64
	var dupGroups int
	if err := conn.GetContext(ctx, &counted, `SELECT COALESCE(SUM(click_count), 0) FROM link_counters`); err != nil {
		return err
	}
	if err := conn.GetContext(ctx, &dupGroups, `SELECT COUNT(*) FROM (SELECT 1 FROM short_links WHERE is_active
		GROUP BY destination_url, link_type HAVING COUNT(*) > 1) g`); err != nil {
		return err
	}

	w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "operation\trequests\tby status\t")
	total, fivexx := 0, 0
	ops := make([]string, 0, len(res.byOp))
	for op := range res.byOp {
		ops = append(ops, op)
	}
	sort.Strings(ops)
	for _, op := range ops {
		n, line := 0, ""
		codes := make([]int, 0)
		for code := range res.byOp[op] {
			codes = append(codes, code)
		}
		sort.Ints(codes)
		for _, code := range codes {
			n += res.byOp[op][code]
			line += fmt.Sprintf("%d×%d ", code, res.byOp[op][code])
			if code >= 500 {
				fivexx += res.byOp[op][code]
			}
		}
		total += n
		fmt.Fprintf(w, "%s\t%d\t%s\t\n", op, n, line)
	}
	w.Flush()
	secs := opts.Duration.Seconds()
	fmt.Printf("\nrequests: %d in %s (%.0f/s), transport errors: %d, 5xx: %d\n", total, opts.Duration, float64(total)/secs, res.errors, fivexx)
	fmt.Printf("active duplicate groups: %d (must be 0)\n", dupGroups)
	fmt.Printf("repeated destinations answered with a second slug: %d (must be 0)\n", res.splitSlugs)
	fmt.Printf("clicks served (302 to GET): %d, click_count in database: %d, difference: %d (must be 0)\n", res.clicksServed, counted, counted-res.clicksServed)
	for i, inst := range instances {
		fmt.Printf("instance %d memory: RSS %.1f MB at start, %.1f MB at end, peak %.1f MB\n", i,
			float64(inst.rssStart)/1024, float64(inst.rssEnd)/1024, float64(inst.rssPeak)/1024)
	}
	if dupGroups != 0 || res.splitSlugs != 0 || counted != res.clicksServed || fivexx != 0 || res.errors != 0 {
		return fmt.Errorf("a guarantee was broken (see above)")
	}
	fmt.Println("soak: OK")
	return nil
}
