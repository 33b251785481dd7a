package handlers_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// apiDocument is handlers/api/openapi.json, loaded and checked once per test
// binary, with a router over its operations.
var apiDocument = sync.OnceValues(func() (loadedDoc, error) {
	doc, err := openapi3.NewLoader().LoadFromFile("api/openapi.json")
	if err != nil {
		return loadedDoc{}, err
	}
	if err := doc.Validate(context.Background()); err != nil {
		return loadedDoc{}, err
	}
	router, err := gorillamux.NewRouter(doc)
	return loadedDoc{doc, router}, err
})

type loadedDoc struct {
	doc    *openapi3.T
	router routers.Router
}

// validateAPI wraps the service so that every exchange under /api/v1/ a
// test makes is checked against the OpenAPI document: the response must be
// documented (status, headers, body), and a request the document calls
// invalid must be refused with a 4xx. Tests of every helper go through it
// because newTestAppOn installs it.
func validateAPI(t testing.TB, next http.Handler) http.Handler {
	d, err := apiDocument()
	router := d.router
	if err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// CORS preflights are the browser's, not operations of the API
		// (web/cors.go answers them before any other middleware; cors_test.go
		// checks them).
		preflight := r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != ""
		if !strings.HasPrefix(r.URL.Path, "/api/v1/") || preflight {
			next.ServeHTTP(w, r)
			return
		}
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		w.Write(rec.Body.Bytes())

		check := r.Clone(context.Background())
		check.Body = io.NopCloser(bytes.NewReader(body))
		if err := checkExchange(router, check, rec.Code, rec.Header(), rec.Body.Bytes()); err != nil {
			t.Errorf("OpenAPI: %s %s → %d: %v", r.Method, r.URL.RequestURI(), rec.Code, err)
		}
	})
}

// checkExchange validates one request and its answer against the document.
func init() { openapi3filter.RegisterBodyDecoder("text/csv", openapi3filter.FileBodyDecoder) }

func checkExchange(router routers.Router, req *http.Request, status int, header http.Header, body []byte) error {
	req.URL.Scheme, req.URL.Host = "http", req.Host
	// A CSV import is the one body that is not JSON.
	csv := strings.HasPrefix(req.Header.Get("Content-Type"), "text/csv")
	if req.Method != http.MethodGet && req.Method != http.MethodHead && !csv && !strings.HasPrefix(req.Header.Get("Content-Type"), "application/json") {
		// The service reads a body as JSON whatever its Content-Type says
		// (curl -d sends form encoding), as the document's description says.
		req.Header.Set("Content-Type", "application/json")
	}
	route, params, err := router.FindRoute(req)
	if err != nil {
		// No documented operation: the service must say so with a documented error.
		if status != http.StatusNotFound && status != http.StatusMethodNotAllowed {
			return errors.New("not in the document, yet answered")
		}
		return checkErrorBody(body)
	}
	opts := &openapi3filter.Options{
		IncludeResponseStatus: true,
		MultiError:            true,
		AuthenticationFunc: func(_ context.Context, in *openapi3filter.AuthenticationInput) error {
			scheme, token, _ := strings.Cut(in.RequestValidationInput.Request.Header.Get("Authorization"), " ")
			if !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
				return errors.New("no bearer token")
			}
			return nil
		},
	}
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: opts}
	if reqErr := openapi3filter.ValidateRequest(context.Background(), in); reqErr != nil && (status < 400 || status > 499) {
		return errors.New("the document calls the request invalid (" + reqErr.Error() + ") but the service did not refuse it")
	}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: status, Header: header, Options: opts}
	out.SetBodyBytes(body)
	return openapi3filter.ValidateResponse(context.Background(), out)
}

// checkErrorBody checks an answer against the document's Error schema.
func checkErrorBody(body []byte) error {
	d, _ := apiDocument()
	v, err := decodeJSONValue(body)
	if err != nil {
		return err
	}
	return d.doc.Components.Schemas["Error"].Value.VisitJSON(v, openapi3.EnableJSONSchema2020())
}

func decodeJSONValue(b []byte) (any, error) {
	var v any
	err := json.Unmarshal(b, &v)
	return v, err
}
