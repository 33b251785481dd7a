package api

import (
	_ "embed"
	"net/http"

	"github.com/labstack/echo/v4"
)

// openAPIDocument describes every /api/v1 operation. The tests validate
// every API request and response they make against it, and fail when a
// route and the document disagree, so it cannot drift from the code.
//
//go:embed openapi.json
var openAPIDocument []byte

// OpenAPI is GET /api/v1/openapi.json: the document, to anyone (it holds
// no secret, and clients need it before they have a token).
func (h *Handlers) OpenAPI(c echo.Context) error {
	c.Response().Header().Set(echo.HeaderCacheControl, "no-cache")
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, openAPIDocument)
}
