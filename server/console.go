package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/acronis-autotask/acronis-autotask/internal/config"
	"github.com/acronis-autotask/acronis-autotask/server/console"
)

// htmxVersion is the vendored htmx (server/console/static/VENDORED.md).
const htmxVersion = "2.0.11"

// consolePrefixes are the paths the web console answers; everything else
// (the REST API, health, metrics, codec) goes to the API router, so the
// OpenAPI document still lists exactly the API's routes.
var consolePrefixes = []string{"/settings", "/billing", "/customers", "/usage", "/tickets", "/audit", "/shadow",
	"/plans", "/overview", "/signin", "/signout", "/static/"}

// webConsole is the admin console of issue 17: server-rendered pages whose
// every read and write is a call to the REST API's own handlers, in process,
// with the signed-in token. So a page can do nothing the API would not do for
// that token: the same validation, the same read-only 403, the same audit actor.
type webConsole struct {
	srv        *Server
	echo       *echo.Echo
	pages      map[string]*template.Template
	sessions   sessions
	temporalUI string
	namespace  string
}

// newConsole parses the embedded templates and registers the console's
// routes; its requests are logged and counted like the API's.
func newConsole(s *Server, metrics *httpMetrics) (*webConsole, error) {
	con := &webConsole{srv: s, echo: echo.New(), sessions: sessions{tokens: s.deps.Tokens, revoked: map[string]time.Time{}},
		temporalUI: strings.TrimRight(s.deps.TemporalUIURL, "/"), namespace: s.deps.TemporalNamespace}
	if err := con.parse(); err != nil {
		return nil, err
	}
	e := con.echo
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = con.errorPage
	e.Use(middleware.RequestID())
	e.Use(observe(s.deps.Logger, metrics))
	e.Use(middleware.RecoverWithConfig(middleware.RecoverConfig{
		LogErrorFunc: func(c echo.Context, err error, stack []byte) error {
			s.deps.Logger.Error("panic in console", "error", err.Error(), "stack", string(stack))
			return err
		},
	}))
	e.Use(secureHeaders)

	static, err := fs.Sub(console.Files, "static")
	if err != nil {
		return nil, err
	}
	e.GET("/static/*", echo.WrapHandler(http.StripPrefix("/static/", staticFiles(static))))
	e.GET("/signin", con.signInForm)
	e.POST("/signin", con.signIn)
	e.POST("/signout", con.signOut, con.signedIn)
	con.pageRoutes(e)
	return con, nil
}

// owns reports whether the console answers path.
func (con *webConsole) owns(path string) bool {
	if path == "/" {
		return true
	}
	for _, p := range consolePrefixes {
		if path == strings.TrimSuffix(p, "/") || strings.HasPrefix(path, strings.TrimSuffix(p, "/")+"/") {
			return true
		}
	}
	return false
}

// secureHeaders keeps the console out of frames and off other origins' scripts.
func secureHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("Content-Security-Policy", "default-src 'self'; style-src 'self'; script-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		if !strings.HasPrefix(c.Request().URL.Path, "/static/") {
			h.Set("Cache-Control", "no-store")
		}
		return next(c)
	}
}

// staticFiles serves the embedded assets; they change only with the binary.
func staticFiles(root fs.FS) http.Handler {
	files := http.FileServer(http.FS(root))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		files.ServeHTTP(w, r)
	})
}

// consoleFuncs are the templates' helpers: formatting only, no decisions.
var consoleFuncs = template.FuncMap{
	"when": func(t any) string {
		switch v := t.(type) {
		case time.Time:
			if v.IsZero() {
				return "—"
			}
			return v.UTC().Format("2006-01-02 15:04 UTC")
		case *time.Time:
			if v == nil || v.IsZero() {
				return "—"
			}
			return v.UTC().Format("2006-01-02 15:04 UTC")
		}
		return "—"
	},
	"deref": func(v any) any {
		switch p := v.(type) {
		case *int64:
			if p == nil {
				return ""
			}
			return *p
		case *string:
			if p == nil {
				return ""
			}
			return *p
		}
		return v
	},
	"add": func(a, b int) int { return a + b },
	// num writes a float without an exponent: 42949672960, 2.5.
	"num": func(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) },
	"json": func(v any) string {
		b, _ := json.MarshalIndent(v, "", "  ")
		return string(b)
	},
	"query": func(pairs ...any) template.URL {
		v := url.Values{}
		for i := 0; i+1 < len(pairs); i += 2 {
			if s := fmt.Sprint(pairs[i+1]); s != "" && s != "0" {
				v.Set(fmt.Sprint(pairs[i]), s)
			}
		}
		return template.URL(v.Encode())
	},
	"percent": func(f float64) string { return fmt.Sprintf("%.0f%%", f*100) },
	"join":    strings.Join,
	// index0 is the first element of a list, or nil when it is empty.
	"index0": func(v any) any {
		rv := reflect.ValueOf(v)
		if rv.Kind() != reflect.Slice || rv.Len() == 0 {
			return nil
		}
		return rv.Index(0).Interface()
	},
	// dict passes several values to a shared template.
	"dict": func(kv ...any) map[string]any {
		m := make(map[string]any, len(kv)/2)
		for i := 0; i+1 < len(kv); i += 2 {
			m[fmt.Sprint(kv[i])] = kv[i+1]
		}
		return m
	},
	// offers reports whether a select's options include v.
	"offers": hasOption,
	"has": func(list []string, s string) bool {
		for _, x := range list {
			if x == s {
				return true
			}
		}
		return false
	},
}

// parse builds one template set per page: the layout, the shared partials
// (files named _*.html) and the page.
func (con *webConsole) parse() error {
	names, err := fs.Glob(console.Files, "templates/*.html")
	if err != nil {
		return err
	}
	con.pages = map[string]*template.Template{}
	for _, n := range names {
		base := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if base == "layout" || strings.HasPrefix(base, "_") {
			continue
		}
		t, err := template.New(base).Funcs(consoleFuncs).ParseFS(console.Files, "templates/layout.html", "templates/_*.html", n)
		if err != nil {
			return fmt.Errorf("console template %s: %w", n, err)
		}
		con.pages[base] = t
	}
	return nil
}

// view is what every page template receives.
type view struct {
	Title string
	// Nav is the navigation entry to highlight.
	Nav   string
	User  string
	Admin bool
	CSRF  string
	Flash string
	// Problem is the API's answer when an action failed.
	Problem *Problem
	// Features says which optional services this build offers.
	Features consoleFeatures
	HTMX     string
	Data     any
}

// consoleFeatures switch parts of pages on when the API offers them.
type consoleFeatures struct {
	TemporalUI bool
	// Shadow shows the Shadow report link while mode=shadow.
	Shadow bool
}

// render writes page with data for the signed-in session.
func (con *webConsole) render(c echo.Context, status int, page, title, nav string, data any) error {
	t, ok := con.pages[page]
	if !ok {
		return fmt.Errorf("no console page %q", page)
	}
	v := view{Title: title, Nav: nav, Data: data, HTMX: htmxVersion, Features: consoleFeatures{TemporalUI: con.temporalUI != ""}}
	if con.srv.deps.Settings != nil {
		if set, err := con.srv.settingsNow(c.Request().Context()); err == nil {
			v.Features.Shadow = set.Shadow()
		}
	}
	if sess, ok := c.Get(sessionKey).(*session); ok {
		v.User, v.Admin, v.CSRF = sess.token.Name, sess.token.Role == config.RoleAdmin, con.sessions.csrf(sess)
	}
	if p, ok := c.Get(problemKey).(*Problem); ok {
		v.Problem = p
	}
	v.Flash = takeFlash(c)
	var buf bytes.Buffer
	layout := "layout"
	if c.Request().Header.Get("HX-Request") == "true" && c.Request().Header.Get("HX-Boosted") != "true" {
		layout = "content" // htmx swaps a fragment, not the whole page
	}
	if err := t.ExecuteTemplate(&buf, layout, v); err != nil {
		return fmt.Errorf("render %s: %w", page, err)
	}
	return c.HTMLBlob(status, buf.Bytes())
}

const problemKey = "consoleProblem"

// errorPage shows failures as a page (or a fragment for htmx), never as JSON.
func (con *webConsole) errorPage(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	p := problemFor(err)
	if p.Status >= 500 {
		con.srv.deps.Logger.ErrorContext(c.Request().Context(), "console request failed", "error", err.Error(),
			"path", c.Request().URL.Path, "request_id", c.Response().Header().Get(echo.HeaderXRequestID))
	}
	c.Set(problemKey, p)
	if rerr := con.render(c, p.Status, "error", http.StatusText(p.Status), "", nil); rerr != nil {
		c.Response().Header().Set(echo.HeaderContentType, echo.MIMETextPlainCharsetUTF8)
		c.Response().WriteHeader(p.Status)
		_, _ = io.WriteString(c.Response(), p.Detail)
	}
}

// apiAnswer is the API's answer to a console call.
type apiAnswer struct {
	status int
	header http.Header
	body   []byte
}

// problem decodes an error answer; nil for success.
func (a apiAnswer) problem() *Problem {
	if a.status < 400 {
		return nil
	}
	p := &Problem{}
	if json.Unmarshal(a.body, p) != nil || p.Status == 0 {
		p = newProblem(a.status, "http", strings.TrimSpace(string(a.body)))
	}
	return p
}

// recorder collects an in-process answer of the API.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }
func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
}
func (r *recorder) Write(p []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(p)
}

// call runs one REST API request in process as the signed-in token. The
// request id is the console request's, so the audit log ties both together.
func (con *webConsole) call(c echo.Context, method, path string, query url.Values, body any) (apiAnswer, error) {
	return con.callWith(c, method, path, query, body, nil)
}

// callWith is call with extra request headers (a content type, If-Match).
func (con *webConsole) callWith(c echo.Context, method, path string, query url.Values, body any, header map[string]string) (apiAnswer, error) {
	sess, ok := c.Get(sessionKey).(*session)
	if !ok {
		return apiAnswer{}, newProblem(http.StatusUnauthorized, "unauthorized", "sign in first")
	}
	var rd io.Reader = http.NoBody
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			return apiAnswer{}, err
		}
		rd = bytes.NewReader(raw)
	}
	target := path
	if len(query) > 0 {
		target += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(c.Request().Context(), method, target, rd)
	if err != nil {
		return apiAnswer{}, err
	}
	req.Header.Set(echo.HeaderAuthorization, "Bearer "+sess.token.Value)
	req.Header.Set(echo.HeaderXRequestID, c.Response().Header().Get(echo.HeaderXRequestID))
	if body != nil {
		req.Header.Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rec := &recorder{header: http.Header{}}
	con.srv.echo.ServeHTTP(rec, req)
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	return apiAnswer{status: rec.status, header: rec.header, body: rec.body.Bytes()}, nil
}

// get reads an API resource into out; a problem answer is returned as the error.
func (con *webConsole) get(c echo.Context, path string, query url.Values, out any) error {
	ans, err := con.call(c, http.MethodGet, path, query, nil)
	if err != nil {
		return err
	}
	if p := ans.problem(); p != nil {
		return p
	}
	return json.Unmarshal(ans.body, out)
}

// send writes through the API; a problem answer comes back as *Problem so
// the page can show it next to the form.
func (con *webConsole) send(c echo.Context, method, path string, body, out any) (*Problem, error) {
	ans, err := con.call(c, method, path, nil, body)
	if err != nil {
		return nil, err
	}
	if p := ans.problem(); p != nil {
		return p, nil
	}
	if out != nil && len(ans.body) > 0 {
		if err := json.Unmarshal(ans.body, out); err != nil {
			return nil, fmt.Errorf("decode %s %s: %w", method, path, err)
		}
	}
	return nil, nil
}

// fieldErrors indexes a problem's field errors by field path (without the
// "settings." prefix decoding errors carry), for showing next to inputs.
func fieldErrors(p *Problem) map[string]string {
	out := map[string]string{}
	if p == nil {
		return out
	}
	for _, f := range p.Errors {
		out[strings.TrimPrefix(f.Field, "settings.")] = f.Message
	}
	return out
}

// redirect answers a successful form post (post/redirect/get) with a message for the next page.
func redirect(c echo.Context, to, flash string) error {
	if flash != "" {
		setFlash(c, flash)
	}
	if c.Request().Header.Get("HX-Request") == "true" {
		c.Response().Header().Set("HX-Redirect", to)
		return c.NoContent(http.StatusNoContent)
	}
	return c.Redirect(http.StatusSeeOther, to)
}
