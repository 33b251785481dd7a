package handlers

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
)

// maxJSONBody bounds request bodies: the largest legitimate one carries a
// 4 kB URL.
const maxJSONBody = 64 << 10

// decodeJSON reads exactly one JSON object into dst, strictly: unknown
// fields, wrong types, trailing data and oversized bodies are 4xx errors
// naming what was wrong.
func decodeJSON(c echo.Context, dst any) error {
	// The body is parsed as JSON whatever its Content-Type says (curl -d
	// sends form encoding by default); the API authenticates by bearer
	// token, not cookies, so a cross-site form post gains nothing.
	req := c.Request()
	dec := json.NewDecoder(http.MaxBytesReader(c.Response(), req.Body, maxJSONBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return invalid("", "request body must hold a single JSON object")
	}
	return nil
}

func jsonError(err error) error {
	var syntaxErr *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	var sizeErr *http.MaxBytesError
	switch {
	case errors.Is(err, io.EOF):
		return invalid("", "request body is empty; send a JSON object")
	case errors.As(err, &sizeErr):
		return &APIError{Status: http.StatusRequestEntityTooLarge, Code: "too_large", Message: fmt.Sprintf("request body is larger than %d bytes", sizeErr.Limit)}
	case errors.As(err, &syntaxErr), errors.Is(err, io.ErrUnexpectedEOF):
		return invalid("", "request body is not valid JSON")
	case errors.As(err, &typeErr):
		if typeErr.Field == "" {
			return invalid("", "request body must be a JSON object")
		}
		return invalid(typeErr.Field, "%s must be a %s", typeErr.Field, jsonTypeName(typeErr.Type.Kind().String()))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return invalid(field, "unknown field %q", field)
	}
	return invalid("", "request body could not be read")
}

func jsonTypeName(kind string) string {
	switch kind {
	case "string":
		return "string"
	case "bool":
		return "boolean"
	case "int", "int64", "int32", "float64":
		return "number"
	}
	return "JSON " + kind
}
