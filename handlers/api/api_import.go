package api

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/shortlinks/shortlinks/db"
	"github.com/shortlinks/shortlinks/handlers/web"
)

// ImportBusinesses is POST /api/v1/businesses/import?partial=: the body is
// the CSV (web/business_import.go checks and writes it). With an
// Idempotency-Key, a repeat imports nothing and answers the first import's
// result.
func (h *Handlers) ImportBusinesses(c echo.Context) error {
	partial, err := web.BoolParam(c, "partial")
	if err != nil {
		return err
	}
	body, err := io.ReadAll(io.LimitReader(c.Request().Body, web.MaxImportBytes+1))
	if err != nil {
		return web.Invalid("body", "the CSV could not be read")
	}
	if len(body) > web.MaxImportBytes {
		return &web.APIError{Status: http.StatusRequestEntityTooLarge, Code: "too_large", Field: "body",
			Message: "the CSV is larger than 32 MB; split it into several imports"}
	}
	sum := sha256.Sum256(body)
	idem, err := web.Idempotency(c, false, db.ResourceImport, struct {
		Partial bool   `json:"partial"`
		CSV     string `json:"csv_sha256"`
	}{partial, hex.EncodeToString(sum[:])})
	if err != nil {
		return err
	}
	out, status, err := h.ImportCSV(c.Request().Context(), bytes.NewReader(body), partial, idem)
	if err != nil {
		return err
	}
	return c.JSON(status, out)
}
