package web

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/shortlinks/shortlinks/db"
	"github.com/shortlinks/shortlinks/handlers/campaign"
)

// APIError is an error a user may see: a status, a stable code, a message
// and, for bad input, the field at fault.
type APIError struct {
	Status  int      `json:"-"`
	Code    string   `json:"code"`
	Message string   `json:"message"`
	Field   string   `json:"field,omitempty"`
	Allowed []string `json:"allowed,omitempty"` // the valid values, when the input was not one of them
	// Permission names what a 403 lacked (authorize.go).
	Permission string `json:"permission,omitempty"`
}

func (e *APIError) Error() string { return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Message) }

// invalid is a 400 naming the field that was wrong.
func Invalid(field, format string, args ...any) *APIError {
	return &APIError{Status: http.StatusBadRequest, Code: "invalid_input", Message: fmt.Sprintf(format, args...), Field: field}
}

func NotFound(what string) *APIError {
	return &APIError{Status: http.StatusNotFound, Code: "not_found", Message: what + " not found"}
}

// toAPIError is the one place that turns any error into what the user sees.
// Unknown errors become a bare 500: their text (SQL, stack) stays in the log.
func toAPIError(err error) *APIError {
	var apiErr *APIError
	var httpErr *echo.HTTPError
	var campaignErr *campaign.Error
	switch {
	case errors.As(err, &apiErr):
		return apiErr
	case errors.As(err, &campaignErr):
		return fromCampaignError(campaignErr)
	case errors.As(err, &httpErr):
		return fromHTTPError(httpErr)
	case errors.Is(err, db.ErrNotFound):
		return NotFound("resource")
	case errors.Is(err, db.ErrIdempotencyMismatch):
		return errKeyReused
	case errors.Is(err, db.ErrOptedOut):
		return &APIError{Status: http.StatusConflict, Code: "opted_out", Field: "business_id",
			Message: "this business opted out (replied STOP): no send can be recorded for it until it opts back in"}
	case errors.Is(err, db.ErrCursorStale):
		return &APIError{Status: http.StatusConflict, Code: "cursor_stale",
			Message: "the order changed since this cursor was issued (clicks moved links across it); start the walk again without a cursor"}
	case errors.Is(err, db.ErrConflict):
		return &APIError{Status: http.StatusConflict, Code: "conflict", Message: "another active link already points to this destination"}
	case errors.Is(err, db.ErrInvalidInput):
		return &APIError{Status: http.StatusBadRequest, Code: "invalid_input", Message: "the request contains a value that cannot be stored or searched"}
	case errors.Is(err, db.ErrUnavailable):
		return &APIError{Status: http.StatusServiceUnavailable, Code: "unavailable", Message: "the database is unavailable; try again shortly"}
	}
	return &APIError{Status: http.StatusInternalServerError, Code: "internal", Message: "internal error"}
}

// fromCampaignError answers a request the SMS rules refused (handlers/campaign).
func fromCampaignError(e *campaign.Error) *APIError {
	switch e.Kind {
	case campaign.NotFound:
		return &APIError{Status: http.StatusNotFound, Code: "not_found", Message: e.Message}
	case campaign.Unusable:
		return &APIError{Status: http.StatusUnprocessableEntity, Code: e.Code, Field: e.Field, Message: e.Message}
	case campaign.Conflict:
		return &APIError{Status: http.StatusConflict, Code: e.Code, Field: e.Field, Message: e.Message}
	}
	return &APIError{Status: http.StatusBadRequest, Code: "invalid_input", Field: e.Field, Message: e.Message, Allowed: e.Allowed}
}

func fromHTTPError(he *echo.HTTPError) *APIError {
	code := strings.ToLower(strings.ReplaceAll(http.StatusText(he.Code), " ", "_"))
	msg := http.StatusText(he.Code)
	if m, ok := he.Message.(string); ok && he.Code < 500 {
		msg = m
	}
	return &APIError{Status: he.Code, Code: code, Message: strings.ToLower(msg)}
}

// ErrorFormat writes the errors of the URLs under Prefix in a surface's own
// format (the Shlink API's problem details); apiErr is what toAPIError made
// of err.
type ErrorFormat struct {
	Prefix string
	Write  func(c echo.Context, err error, apiErr *APIError) error
}

// ErrorHandler returns Echo's error handler: a surface's own format under
// its prefix, JSON under /api, an HTML page elsewhere; 5xx are logged with
// their cause.
func (h *Base) ErrorHandler(formats ...ErrorFormat) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) { h.handleError(err, c, formats) }
}

// ErrNoSuchLink is the public redirect's 404 (handlers/public). Echo hands
// a multi-segment path no route matches to /:slug, so under an API prefix
// it means a wrong API URL.
var ErrNoSuchLink = &APIError{Status: http.StatusNotFound, Code: "not_found", Message: "This short link does not exist."}

func (h *Base) handleError(err error, c echo.Context, formats []ErrorFormat) {
	if c.Response().Committed {
		return
	}
	apiErr := toAPIError(err)
	var format *ErrorFormat
	for i := range formats {
		if strings.HasPrefix(c.Request().URL.Path, formats[i].Prefix) {
			format = &formats[i]
		}
	}
	// The redirect route runs without the page middleware; its error
	// pages get the page headers here.
	setHeaders(c, h.PageHeaders)
	setRequestID(c)
	// No route matched (Echo hands a multi-segment path to /:slug when
	// nothing else fits): an API client called a wrong URL.
	if (errors.Is(err, echo.ErrNotFound) || errors.Is(err, ErrNoSuchLink)) && (isAPI(c) || format != nil) {
		apiErr = NoSuchAPIRoute(c)
	}
	if apiErr.Status >= 500 {
		h.Log.Log(c.Request().Context(), failureLevel(c, apiErr), "request failed", "err", err, "method", c.Request().Method,
			"path", c.Request().URL.Path)
	}
	if retry := retryAfter(err); retry != "" {
		c.Response().Header().Set("Retry-After", retry)
	}
	var werr error
	switch {
	case c.Request().Method == http.MethodHead:
		werr = c.NoContent(apiErr.Status)
	case format != nil:
		werr = format.Write(c, err, apiErr) // handlers/shlink: shlink_errors.go
	case isAPI(c):
		werr = c.JSON(apiErr.Status, map[string]*APIError{"error": apiErr})
	default:
		werr = h.ErrorPage(c, apiErr) // error_pages.go
	}
	if werr != nil {
		h.Log.WarnContext(c.Request().Context(), "writing error response", "err", werr)
	}
}

// failureLevel keeps the error log for faults of our own: a client that hung
// up mid-request is debug, and a database outage (503, already visible in
// /readyz and the metrics) is a warning, so an outage does not flood the log.
func failureLevel(c echo.Context, e *APIError) slog.Level {
	switch {
	case c.Request().Context().Err() != nil:
		return slog.LevelDebug
	case e.Status == http.StatusServiceUnavailable:
		return slog.LevelWarn
	}
	return slog.LevelError
}

// retryAfter returns the Retry-After value carried by err, if any.
func retryAfter(err error) string {
	var r interface{ RetryAfter() string }
	if errors.As(err, &r) {
		return r.RetryAfter()
	}
	return ""
}

func isAPI(c echo.Context) bool {
	return strings.HasPrefix(c.Request().URL.Path, "/api/")
}

// NoSuchAPIRoute is the answer for a path under /api/ or /rest/ that no
// route matches: an API client learns it called a wrong URL, not that a
// short link is missing.
func NoSuchAPIRoute(c echo.Context) *APIError {
	return &APIError{Status: http.StatusNotFound, Code: "not_found",
		Message: "no such API route: " + c.Request().Method + " " + c.Request().URL.Path + " (the API is described at /api/v1/openapi.json)"}
}
