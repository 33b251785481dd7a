package web

import (
	"context"
	"io"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/shortlinks/shortlinks/db"
	"github.com/shortlinks/shortlinks/handlers/csvimport"
)

// Importing a CSV lead list: the console's upload (admin), POST
// /api/v1/businesses/import (api) and the CLI (cmd/shortlinks/import.go)
// read rows with csvimport under the business form's own URL and phone
// rules, and write them with one db.ImportBusinesses.

// MaxImportBytes bounds an uploaded CSV (200,000 rows of a lead list fit).
const MaxImportBytes = 32 << 20

// ImportJSON is the answer of an import, and its report in the console.
type ImportJSON struct {
	Imported int                  `json:"imported"`
	Updated  int                  `json:"updated"`
	Rejected []db.ImportRejection `json:"rejected"`
}

// ImportCSV checks every row of r and imports the file when all are good,
// or the good ones when partial. 200 when something was written (or the
// file had no rows), 422 when rows were bad and nothing was imported; the
// body is the same either way.
func (h *Base) ImportCSV(ctx context.Context, r io.Reader, partial bool, idem db.Idempotency) (ImportJSON, int, error) {
	read := csvimport.Read(r, csvimport.Rules{URL: h.NormalizeURL, Phone: h.NormalizePhone})
	out := ImportJSON{Rejected: make([]db.ImportRejection, len(read.Rejected))}
	for i, rej := range read.Rejected {
		out.Rejected[i] = db.ImportRejection(rej)
	}
	if read.HeaderBad || (len(read.Rejected) > 0 && (!partial || len(read.Rows) == 0)) {
		return out, http.StatusUnprocessableEntity, nil
	}
	rows := make([]db.ImportRow, len(read.Rows))
	for i, row := range read.Rows {
		rows[i] = db.ImportRow(row)
	}
	res, _, err := h.Store.ImportBusinesses(ctx, rows, out.Rejected, idem)
	if err != nil {
		return ImportJSON{}, 0, err
	}
	return ImportJSON{Imported: res.Imported, Updated: res.Updated, Rejected: res.Rejected}, http.StatusOK, nil
}

// BoolParam reads an optional true/false query parameter (false when absent).
func BoolParam(c echo.Context, name string) (bool, error) {
	raw := c.QueryParam(name)
	if raw == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(raw)
	if err != nil {
		return false, Invalid(name, "%s must be true or false", name)
	}
	return b, nil
}
