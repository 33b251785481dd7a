package handlers

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/shortlinks/shortlinks/db"
	"github.com/shortlinks/shortlinks/handlers/csvimport"
	"github.com/shortlinks/shortlinks/handlers/phone"
	"github.com/shortlinks/shortlinks/views"
)

// Importing a CSV lead list: the console's upload, POST
// /api/v1/businesses/import and the CLI (cmd/shortlinks/import.go) read
// rows with csvimport under the business form's own URL and phone rules,
// and write them with one db.ImportBusinesses.

// maxImportBytes bounds an uploaded CSV (200,000 rows of a lead list fit).
const maxImportBytes = 32 << 20

// resourceImport is the kind of request in an import's idempotency hash.
const resourceImport = "business_import"

// importJSON is the answer of an import, and its report in the console.
type importJSON struct {
	Imported int                  `json:"imported"`
	Updated  int                  `json:"updated"`
	Rejected []db.ImportRejection `json:"rejected"`
}

// importRules are the checks of the business form, for import rows.
func (h *Handlers) importRules() csvimport.Rules {
	return csvimport.Rules{URL: h.normalizeURL, Phone: h.normalizePhone}
}

// importCSV checks every row of r and imports the file when all are good,
// or the good ones when partial. 200 when something was written (or the
// file had no rows), 422 when rows were bad and nothing was imported;
// the body is the same either way.
func (h *Handlers) importCSV(ctx context.Context, r io.Reader, partial bool, idem db.Idempotency) (importJSON, int, error) {
	read := csvimport.Read(r, h.importRules())
	out := importJSON{Rejected: make([]db.ImportRejection, len(read.Rejected))}
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
	res, _, err := h.store.ImportBusinesses(ctx, rows, out.Rejected, idem)
	if err != nil {
		return importJSON{}, 0, err
	}
	return importJSON{Imported: res.Imported, Updated: res.Updated, Rejected: res.Rejected}, http.StatusOK, nil
}

// ImportBusinesses is POST /api/v1/businesses/import?partial=: the body is
// the CSV. With an Idempotency-Key, a repeat imports nothing and answers
// the first import's result.
func (h *Handlers) ImportBusinesses(c echo.Context) error {
	if err := onlyParams(c, "partial"); err != nil {
		return err
	}
	partial, err := boolParam(c, "partial")
	if err != nil {
		return err
	}
	body, err := io.ReadAll(io.LimitReader(c.Request().Body, maxImportBytes+1))
	if err != nil {
		return invalid("body", "the CSV could not be read")
	}
	if len(body) > maxImportBytes {
		return &APIError{Status: http.StatusRequestEntityTooLarge, Code: "too_large", Field: "body",
			Message: "the CSV is larger than 32 MB; split it into several imports"}
	}
	sum := sha256.Sum256(body)
	idem, err := idempotency(c, false, resourceImport, struct {
		Partial bool   `json:"partial"`
		CSV     string `json:"csv_sha256"`
	}{partial, hex.EncodeToString(sum[:])})
	if err != nil {
		return err
	}
	out, status, err := h.importCSV(c.Request().Context(), bytes.NewReader(body), partial, idem)
	if err != nil {
		return err
	}
	return c.JSON(status, out)
}

// ImportPage is GET /admin/businesses/import: the upload form.
func (h *Handlers) ImportPage(c echo.Context) error {
	return render(c, http.StatusOK, views.ImportPage(h.chrome(c, "Import businesses", "campaigns"), views.ImportForm{CSRF: csrfToken(c)}))
}

// ImportForm is POST /admin/businesses/import (multipart, field "file"):
// the page again, with the report. js/import.js sends it with a progress
// bar and shows the report from the answer.
func (h *Handlers) ImportForm(c echo.Context) error {
	f := views.ImportForm{CSRF: csrfToken(c), Partial: c.FormValue("partial") == "true"}
	page := func(status int) error {
		return render(c, status, views.ImportPage(h.chrome(c, "Import businesses", "campaigns"), f))
	}
	fh, err := c.FormFile("file")
	if err != nil {
		f.Error = "Choose a CSV file to import."
		return page(http.StatusBadRequest)
	}
	file, err := fh.Open()
	if err != nil {
		f.Error = "The file could not be read; try again."
		return page(http.StatusBadRequest)
	}
	defer file.Close()
	out, status, err := h.importCSV(c.Request().Context(), file, f.Partial, db.Idempotency{})
	if err != nil {
		return err
	}
	h.log.Info("businesses imported in the admin console", "imported", out.Imported, "updated", out.Updated, "rejected", len(out.Rejected))
	f.Done, f.Imported, f.Updated, f.Refused = true, out.Imported, out.Updated, status != http.StatusOK
	for _, r := range out.Rejected {
		f.Rejected = append(f.Rejected, views.ImportRejection(r))
	}
	return page(status)
}

// normalizePhone is the phone rule of every form and import: E.164 in
// the configured region; its error names the field.
func (h *Handlers) normalizePhone(raw string) (string, error) {
	region := h.cfg.PhoneRegion
	if region == "" {
		region = phone.DefaultRegion
	}
	p, err := phone.Normalize(raw, region)
	if errors.Is(err, phone.ErrInvalid) {
		return "", errors.New("phone must be a valid phone number: with its country code (+44 …), or a number of region " + region)
	}
	return p, err
}

// boolParam reads an optional true/false query parameter (false when absent).
func boolParam(c echo.Context, name string) (bool, error) {
	raw := c.QueryParam(name)
	if raw == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(raw)
	if err != nil {
		return false, invalid(name, "%s must be true or false", name)
	}
	return b, nil
}
