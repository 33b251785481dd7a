package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/shortlinks/shortlinks/handlers/web"
	"github.com/shortlinks/shortlinks/views"
)

// The parts of an OpenAPI document the /api/docs page shows.
type (
	oaDocument struct {
		Info       struct{ Title, Version, Description string }
		Paths      map[string]map[string]json.RawMessage // method (or "parameters") → its JSON
		Components struct {
			Schemas    map[string]oaSchema
			Parameters map[string]oaParameter
			Responses  map[string]oaResponse
		}
	}
	oaOperation struct {
		Summary, Description string
		Security             *[]map[string][]string
		Parameters           []oaParameter
		RequestBody          *struct {
			Content map[string]struct{ Schema oaSchema }
		} `json:"requestBody"`
		Responses map[string]oaResponse
	}
	oaParameter struct {
		Ref                   string `json:"$ref"`
		Name, In, Description string
		Required              bool
		Schema                oaSchema
	}
	oaResponse struct {
		Ref         string `json:"$ref"`
		Description string
		Content     map[string]struct{ Schema oaSchema }
	}
	oaSchema struct {
		Ref         string `json:"$ref"`
		Type        any
		Format      string
		Description string
		Enum        []any
		Items       *oaSchema
		Properties  map[string]oaSchema
		Required    []string
	}
)

// APIDocs is GET /api/docs: the OpenAPI document as a page. Like the
// document, it is public.
func (h *Handlers) APIDocs(c echo.Context) error {
	var doc oaDocument
	if err := json.Unmarshal(openAPIDocument, &doc); err != nil {
		return fmt.Errorf("api docs: %w", err)
	}
	page := views.APIDocsPage{Title: doc.Info.Title, Version: doc.Info.Version, Description: doc.Info.Description}
	for _, path := range sortedMapKeys(doc.Paths) {
		ops, err := doc.operations(path)
		if err != nil {
			return err
		}
		page.Operations = append(page.Operations, ops...)
	}
	for _, name := range sortedMapKeys(doc.Components.Schemas) {
		s := doc.Components.Schemas[name]
		page.Schemas = append(page.Schemas, views.APISchema{Name: name, Description: s.Description, Fields: s.fields()})
	}
	c.Response().Header().Set(echo.HeaderCacheControl, "no-cache")
	return web.Render(c, http.StatusOK, views.APIDocs(views.Chrome{Title: "API"}, page))
}

// operations lists a path's operations, HEAD left out (it mirrors GET).
func (d oaDocument) operations(path string) ([]views.APIOperation, error) {
	var shared []oaParameter
	if raw, ok := d.Paths[path]["parameters"]; ok {
		if err := json.Unmarshal(raw, &shared); err != nil {
			return nil, fmt.Errorf("api docs: %s parameters: %w", path, err)
		}
	}
	var out []views.APIOperation
	for _, method := range []string{"get", "post", "put", "patch", "delete"} {
		raw, ok := d.Paths[path][method]
		if !ok {
			continue
		}
		var op oaOperation
		if err := json.Unmarshal(raw, &op); err != nil {
			return nil, fmt.Errorf("api docs: %s %s: %w", method, path, err)
		}
		v := views.APIOperation{Method: strings.ToUpper(method), Path: path, Summary: op.Summary,
			Description: op.Description, Public: op.Security != nil && len(*op.Security) == 0}
		for _, p := range append(slices.Clone(shared), op.Parameters...) {
			if p.Ref != "" {
				p = d.Components.Parameters[refName(p.Ref)]
			}
			v.Params = append(v.Params, views.APIField{Name: p.Name, In: p.In, Type: p.Schema.typeName(), Required: p.Required, Description: p.Description})
		}
		if op.RequestBody != nil {
			v.Body = op.RequestBody.Content["application/json"].Schema.typeName()
		}
		for _, status := range sortedMapKeys(op.Responses) {
			r := op.Responses[status]
			if r.Ref != "" {
				r = d.Components.Responses[refName(r.Ref)]
			}
			v.Responses = append(v.Responses, views.APIResponse{Status: status, Description: r.Description,
				Type: r.Content["application/json"].Schema.typeName()})
		}
		out = append(out, v)
	}
	return out, nil
}

// typeName is a short description of a schema's type: a component's name,
// a JSON type (with | for unions), T[] for arrays, or its enum values.
func (s oaSchema) typeName() string {
	switch {
	case s.Ref != "":
		return refName(s.Ref)
	case len(s.Enum) > 0:
		vals := make([]string, len(s.Enum))
		for i, e := range s.Enum {
			vals[i] = fmt.Sprintf("%q", e)
		}
		return strings.Join(vals, " | ")
	case s.Items != nil:
		return s.Items.typeName() + "[]"
	}
	var types []string
	switch t := s.Type.(type) {
	case string:
		types = []string{t}
	case []any:
		for _, x := range t {
			types = append(types, fmt.Sprint(x))
		}
	}
	name := strings.Join(types, " | ")
	if s.Format != "" {
		name += " (" + s.Format + ")"
	}
	return name
}

func (s oaSchema) fields() []views.APIField {
	var out []views.APIField
	for _, name := range sortedMapKeys(s.Properties) {
		p := s.Properties[name]
		out = append(out, views.APIField{Name: name, Type: p.typeName(), Required: slices.Contains(s.Required, name), Description: p.Description})
	}
	return out
}

func refName(ref string) string { return ref[strings.LastIndex(ref, "/")+1:] }

func sortedMapKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
