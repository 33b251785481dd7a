package admin

import (
	"encoding/csv"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/shortlinks/shortlinks/db"
)

// csvFlushEvery is how many rows the export buffers before pushing them to
// the client, so memory stays flat however many links match.
const csvFlushEvery = 500

// exportWriteTimeout is how long a CSV download may take to send.
const exportWriteTimeout = 10 * time.Minute

// LinksCSV is GET /admin/links.csv: every link matching the listing's
// filter (all pages), in the listing's order, as a CSV download.
func (h *Handlers) LinksCSV(c echo.Context) error {
	q, err := h.ReadLinkQuery(c)
	if err != nil {
		return err
	}
	resp := c.Response()
	// Past the server's WriteTimeout (made for pages, not files), so a large
	// export is not cut off midway.
	http.NewResponseController(resp.Writer).SetWriteDeadline(time.Now().Add(exportWriteTimeout))
	w := csv.NewWriter(resp)
	started, rows := false, 0
	// The headers are only sent with the first row (or at the end), so a
	// failing query still gets a proper error page instead of a download.
	start := func() {
		started = true
		resp.Header().Set(echo.HeaderContentType, "text/csv; charset=utf-8")
		resp.Header().Set(echo.HeaderContentDisposition,
			`attachment; filename="links-`+time.Now().UTC().Format("20060102-150405")+`.csv"`)
		resp.Header().Set("X-Content-Type-Options", "nosniff")
		resp.WriteHeader(http.StatusOK)
		w.Write([]string{"slug", "short_url", "destination_url", "link_type", "business", "active", "clicks", "previews", "created_at"})
	}
	err = h.Store.EachLink(c.Request().Context(), q.Filter(0), func(l db.ListedLink) error {
		if !started {
			start()
		}
		w.Write(h.csvRecord(l))
		if rows++; rows%csvFlushEvery == 0 {
			w.Flush()
			resp.Flush()
		}
		return w.Error() // a client that went away stops the walk
	})
	if err != nil && !started {
		return err
	}
	if err != nil {
		// Too late for an error status: break the connection so the browser
		// reports a failed download instead of keeping a truncated file.
		h.Log.WarnContext(c.Request().Context(), "link export ended early", "err", err, "rows", rows)
		panic(http.ErrAbortHandler)
	}
	if !started {
		start()
	}
	w.Flush()
	return w.Error()
}

func (h *Handlers) csvRecord(l db.ListedLink) []string {
	business := ""
	if l.BusinessName != nil {
		business = *l.BusinessName
	}
	return []string{
		csvCell(l.Slug), csvCell(h.ShortURL(l.Slug)), csvCell(l.DestinationURL), csvCell(l.LinkType),
		csvCell(business), strconv.FormatBool(l.IsActive), strconv.FormatInt(l.ClickCount, 10),
		strconv.FormatInt(l.PreviewCount, 10), l.CreatedAt.UTC().Format(time.RFC3339),
	}
}

// csvCell defuses formula injection: a spreadsheet would run a cell that
// starts with = + - @ (or a tab or carriage return before one) as a
// formula, so such cells get a leading apostrophe and are shown as text.
func csvCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
