package shlink

import (
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/shortlinks/shortlinks/handlers/web"
)

// Shlink's error types (RFC 7807 "type" URIs), as its clients compare them.
const (
	shlinkInvalidData     = "https://shlink.io/api/error/invalid-data"
	shlinkShortURLMissing = "https://shlink.io/api/error/short-url-not-found"
	shlinkInvalidAPIKey   = "https://shlink.io/api/error/invalid-api-key"
	shlinkMissingAuth     = "https://shlink.io/api/error/missing-authentication"
	shlinkNotFound        = "https://shlink.io/api/error/not-found"
)

// shlinkProblem is an RFC 7807 problem as Shlink returns it: type, title,
// detail, status, plus invalidElements (400) or shortCode (404).
type shlinkProblem struct {
	Type            string   `json:"type"`
	Title           string   `json:"title"`
	Detail          string   `json:"detail"`
	Status          int      `json:"status"`
	InvalidElements []string `json:"invalidElements,omitempty"`
	ShortCode       string   `json:"shortCode,omitempty"`
}

func (p *shlinkProblem) Error() string { return p.Title + ": " + p.Detail }

// Unwrap lets the one error mapping (toAPIError) see the status, so a
// problem is neither logged nor counted as a failure of ours.
func (p *shlinkProblem) Unwrap() error {
	return &web.APIError{Status: p.Status, Code: strings.TrimPrefix(p.Type, "https://shlink.io/api/error/"), Message: p.Detail}
}

// invalidShlinkData is Shlink's 400 for bad input; detail says what is wrong
// with the named elements.
func invalidShlinkData(detail string, elements ...string) *shlinkProblem {
	return &shlinkProblem{Type: shlinkInvalidData, Title: "Invalid data", Detail: detail,
		Status: http.StatusBadRequest, InvalidElements: elements}
}

func shortURLNotFound(code string) *shlinkProblem {
	return &shlinkProblem{Type: shlinkShortURLMissing, Title: "Short URL not found",
		Detail: `No URL found with short code "` + code + `"`, Status: http.StatusNotFound, ShortCode: code}
}

// WriteProblem answers an error under /rest/ as problem details: a problem
// as it is, anything else translated from the APIError the rest of the
// service would show (so a SQL error stays out here too).
func WriteProblem(c echo.Context, err error, apiErr *web.APIError) error {
	var p *shlinkProblem
	if !errors.As(err, &p) {
		p = &shlinkProblem{Type: "about:blank", Title: http.StatusText(apiErr.Status), Detail: apiErr.Message, Status: apiErr.Status}
		switch {
		case apiErr.Status == http.StatusBadRequest:
			p.Type, p.Title = shlinkInvalidData, "Invalid data"
			if apiErr.Field != "" {
				p.InvalidElements = []string{apiErr.Field}
			}
		case apiErr.Status == http.StatusNotFound:
			p.Type = shlinkNotFound
		}
	}
	c.Response().Header().Set(echo.HeaderContentType, "application/problem+json")
	return c.JSON(p.Status, p)
}

// Unauthorized is the Shlink API's 401 for a request without a usable
// X-Api-Key (web.Authorize checks the key: API_TOKEN or a named key).
func Unauthorized(c echo.Context, keyGiven bool) error {
	if !keyGiven {
		return &shlinkProblem{Type: shlinkMissingAuth, Title: "Invalid authorization", Status: http.StatusUnauthorized,
			Detail: `Expected one of the following authentication headers, ["X-Api-Key"], but none were provided`}
	}
	return &shlinkProblem{Type: shlinkInvalidAPIKey, Title: "Invalid API key", Status: http.StatusUnauthorized,
		Detail: "Provided API key does not exist or is invalid."}
}
