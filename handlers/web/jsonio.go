package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
)

// maxJSONBody bounds request bodies: the largest legitimate one carries a
// 4 kB URL.
const maxJSONBody = 64 << 10

// decodeJSON reads exactly one JSON object into dst, strictly: unknown
// fields, wrong types, trailing data and oversized bodies are 4xx errors
// naming what was wrong.
func DecodeJSON(c echo.Context, dst any) error {
	// The body is parsed as JSON whatever its Content-Type says (curl -d
	// sends form encoding by default); the API authenticates by bearer
	// token, not cookies, so a cross-site form post gains nothing.
	body, err := io.ReadAll(http.MaxBytesReader(c.Response(), c.Request().Body, maxJSONBody))
	if err != nil {
		return jsonError(err)
	}
	if !utf8.Valid(body) {
		// encoding/json would quietly turn bad bytes into U+FFFD.
		return Invalid("", "request body is not valid UTF-8")
	}
	if err := checkKeys(body, dst); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return Invalid("", "request body must hold a single JSON object")
	}
	return nil
}

// checkKeys refuses what encoding/json lets through silently: a key given
// twice (the last would win) and a key that matches a field only when case
// is ignored. Bodies that are not objects are left to the decoder to report.
func checkKeys(body []byte, dst any) error {
	fields := jsonFields(reflect.TypeOf(dst).Elem())
	dec := json.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		key, ok := tok.(string)
		if err != nil || !ok {
			return nil
		}
		switch {
		case seen[key]:
			return Invalid(key, "%s is given more than once", key)
		case !fields[key]:
			return Invalid(key, "unknown field %q", key)
		}
		seen[key] = true
		if err := dec.Decode(&json.RawMessage{}); err != nil {
			return nil
		}
	}
	return nil
}

// jsonFields returns the JSON names of a struct's fields.
func jsonFields(t reflect.Type) map[string]bool {
	names := map[string]bool{}
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name != "" && name != "-" {
			names[name] = true
		}
	}
	return names
}

func jsonError(err error) error {
	var syntaxErr *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	var sizeErr *http.MaxBytesError
	switch {
	case errors.Is(err, io.EOF):
		return Invalid("", "request body is empty; send a JSON object")
	case errors.As(err, &sizeErr):
		return &APIError{Status: http.StatusRequestEntityTooLarge, Code: "too_large", Message: fmt.Sprintf("request body is larger than %d bytes", sizeErr.Limit)}
	case errors.As(err, &syntaxErr) && strings.HasSuffix(syntaxErr.Error(), "exceeded max depth"):
		// encoding/json stops at 10,000 levels with a syntax error; the
		// JSON may be valid, it is just nested deeper than we read.
		return Invalid("", "request body is nested too deeply")
	case errors.As(err, &syntaxErr), errors.Is(err, io.ErrUnexpectedEOF):
		return Invalid("", "request body is not valid JSON")
	case errors.As(err, &typeErr):
		if typeErr.Field == "" {
			return Invalid("", "request body must be a JSON object")
		}
		return Invalid(typeErr.Field, "%s must be a %s", typeErr.Field, jsonTypeName(typeErr.Type.Kind().String()))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return Invalid(field, "unknown field %q", field)
	}
	return Invalid("", "request body could not be read")
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
