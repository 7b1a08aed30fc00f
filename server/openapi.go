package server

import (
	"fmt"
	"net/http"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3gen"
	"github.com/labstack/echo/v4"
)

// buildOpenAPI describes every route of the table with its bodies and error
// answers; schemas come from the Go types the handlers use.
func buildOpenAPI(routes []route, version string) (*openapi3.T, error) {
	doc := &openapi3.T{
		OpenAPI: "3.0.3",
		Info: &openapi3.Info{
			Title:       "acronis-autotask",
			Version:     version,
			Description: "Connects Acronis Cyber Cloud with Autotask PSA: provisioning, billing, deprovisioning and alert tickets. Errors are application/problem+json.",
		},
		Paths: openapi3.NewPaths(),
		Components: &openapi3.Components{
			Schemas: openapi3.Schemas{},
			SecuritySchemes: openapi3.SecuritySchemes{
				"bearer": &openapi3.SecuritySchemeRef{Value: openapi3.NewJWTSecurityScheme().WithBearerFormat("opaque token from API_TOKENS")},
			},
		},
	}
	gen := openapi3gen.NewGenerator(openapi3gen.UseAllExportedFields())
	schemaOf := func(v any) (*openapi3.SchemaRef, error) {
		name := reflect.TypeOf(v).Name()
		if _, ok := doc.Components.Schemas[name]; !ok {
			ref, err := gen.NewSchemaRefForValue(v, doc.Components.Schemas)
			if err != nil {
				return nil, fmt.Errorf("schema for %s: %w", name, err)
			}
			doc.Components.Schemas[name] = ref
		}
		return openapi3.NewSchemaRef("#/components/schemas/"+name, nil), nil
	}
	problem, err := schemaOf(Problem{})
	if err != nil {
		return nil, err
	}
	problemResponse := func(status int) *openapi3.ResponseRef {
		return &openapi3.ResponseRef{Value: openapi3.NewResponse().
			WithDescription(http.StatusText(status)).
			WithContent(openapi3.Content{ProblemContentType: openapi3.NewMediaType().WithSchemaRef(problem)})}
	}

	for _, r := range routes {
		op := openapi3.NewOperation()
		op.Summary, op.Tags = r.summary, []string{r.tag}
		op.OperationID = operationID(r.method, r.path)
		for _, p := range pathParams(r.path) {
			op.AddParameter(openapi3.NewPathParameter(p).WithSchema(openapi3.NewStringSchema()))
		}
		for _, q := range r.query {
			op.AddParameter(openapi3.NewQueryParameter(q.name).WithDescription(q.description).WithSchema(openapi3.NewStringSchema()))
		}
		if r.request != nil {
			s, err := schemaOf(r.request)
			if err != nil {
				return nil, err
			}
			body := openapi3.NewRequestBody().WithRequired(true).WithJSONSchemaRef(s)
			if r.requestType != "" {
				body = openapi3.NewRequestBody().WithRequired(true).WithSchemaRef(s, []string{r.requestType})
			}
			op.RequestBody = &openapi3.RequestBodyRef{Value: body}
		}
		ok := openapi3.NewResponse().WithDescription(http.StatusText(r.status))
		if r.response != nil {
			s, err := schemaOf(r.response)
			if err != nil {
				return nil, err
			}
			ok = ok.WithJSONSchemaRef(s)
		}
		op.AddResponse(r.status, ok)
		statuses := append([]int{http.StatusInternalServerError}, r.errors...)
		if !r.public {
			statuses = append(statuses, http.StatusUnauthorized)
			if r.method != http.MethodGet {
				statuses = append(statuses, http.StatusForbidden)
			}
			op.Security = &openapi3.SecurityRequirements{{"bearer": {}}}
		} else {
			op.Security = &openapi3.SecurityRequirements{}
		}
		for _, st := range statuses {
			op.Responses.Set(strconv.Itoa(st), problemResponse(st))
		}
		doc.AddOperation(openAPIPath(r.path), r.method, op)
		if r.preflight {
			pre := openapi3.NewOperation()
			pre.Summary, pre.Tags = "CORS preflight of "+r.method+" for allowed browser origins (CODEC_CORS_ORIGINS)", []string{r.tag}
			pre.OperationID = operationID(http.MethodOptions, r.path)
			pre.Security = &openapi3.SecurityRequirements{}
			pre.AddResponse(http.StatusNoContent, openapi3.NewResponse().WithDescription(http.StatusText(http.StatusNoContent)))
			doc.AddOperation(openAPIPath(r.path), http.MethodOptions, pre)
		}
	}
	return doc, nil
}

// openAPIPath turns Echo's :param into OpenAPI's {param}.
func openAPIPath(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		if strings.HasPrefix(s, ":") {
			segs[i] = "{" + s[1:] + "}"
		}
	}
	return strings.Join(segs, "/")
}

func pathParams(p string) []string {
	var out []string
	for _, s := range strings.Split(p, "/") {
		if strings.HasPrefix(s, ":") {
			out = append(out, s[1:])
		}
	}
	return out
}

func operationID(method, path string) string {
	var b strings.Builder
	b.WriteString(strings.ToLower(method))
	for _, s := range strings.FieldsFunc(path, func(r rune) bool { return r == '/' || r == '.' || r == '-' || r == ':' }) {
		if s == "api" || s == "v1" {
			continue
		}
		b.WriteString(strings.ToUpper(s[:1]) + s[1:])
	}
	return b.String()
}

func (s *Server) openAPIDocument(c echo.Context) error {
	return c.JSON(http.StatusOK, s.openapi)
}

// documentedOperations lists "METHOD /path" for every operation in the document.
func documentedOperations(doc *openapi3.T) []string {
	var out []string
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			out = append(out, method+" "+path)
		}
	}
	sort.Strings(out)
	return out
}
