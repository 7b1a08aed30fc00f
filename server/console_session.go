package server

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/acronis-autotask/acronis-autotask/internal/config"
)

// Console session cookies. A session is the name of an API token, an expiry
// and an HMAC keyed with that token's own value: nothing is stored server
// side, a restart keeps admins signed in, and rotating a token in API_TOKENS
// ends every session made with it.
const (
	sessionCookie = "aa_session"
	signInCookie  = "aa_signin"
	flashCookie   = "aa_flash"
	sessionTTL    = 12 * time.Hour
	sessionKey    = "consoleSession"
	csrfField     = "csrf"
	csrfHeader    = "X-CSRF-Token"
)

// session is a signed-in console user.
type session struct {
	token   config.Token
	expires time.Time
	// raw is the cookie value; the CSRF token is derived from it.
	raw string
}

// sessions signs and checks session cookies. revoked holds signed-out
// cookies until they expire, so a copied cookie stops working at sign-out
// (per process: rotate the token to end sessions everywhere).
type sessions struct {
	tokens  []config.Token
	mu      sync.Mutex
	revoked map[string]time.Time
}

func mac(key, msg string) string {
	h := hmac.New(sha256.New, []byte(key))
	h.Write([]byte(msg))
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil))
}

// issue makes the cookie value of a new session for tok.
func (s *sessions) issue(tok config.Token, now time.Time) string {
	body := base64.RawURLEncoding.EncodeToString([]byte(tok.Name)) + "." + strconv.FormatInt(now.Add(sessionTTL).Unix(), 10)
	return body + "." + mac(tok.Value, "session\x00"+body)
}

// check verifies a cookie value: known token, unexpired, untampered, not signed out.
func (s *sessions) check(raw string, now time.Time) (*session, bool) {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return nil, false
	}
	name, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return nil, false
	}
	exp, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil || now.Unix() >= exp {
		return nil, false
	}
	for _, t := range s.tokens {
		if t.Name != string(name) {
			continue
		}
		want := mac(t.Value, "session\x00"+parts[0]+"."+parts[1])
		if subtle.ConstantTimeCompare([]byte(want), []byte(parts[2])) != 1 {
			return nil, false
		}
		s.mu.Lock()
		_, gone := s.revoked[raw]
		s.mu.Unlock()
		if gone {
			return nil, false
		}
		return &session{token: t, expires: time.Unix(exp, 0), raw: raw}, true
	}
	return nil, false
}

// revoke ends a session and forgets expired revocations.
func (s *sessions) revoke(sess *session, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, exp := range s.revoked {
		if now.After(exp) {
			delete(s.revoked, k)
		}
	}
	s.revoked[sess.raw] = sess.expires
}

// csrf is the session's form token: bound to the session, unguessable without the API token.
func (s *sessions) csrf(sess *session) string {
	return mac(sess.token.Value, "csrf\x00"+sess.raw)
}

// secure says whether cookies must be Secure: TLS here or at a proxy in front.
func secure(r *http.Request) bool {
	return r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}

func setCookie(c echo.Context, name, value string, maxAge int) {
	c.SetCookie(&http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge, HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: secure(c.Request())})
}

// signedIn admits requests with a valid session; forms must also carry the
// session's CSRF token, and read-only tokens may not post anything but sign-out.
func (con *webConsole) signedIn(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		ck, err := c.Cookie(sessionCookie)
		var sess *session
		ok := false
		if err == nil {
			sess, ok = con.sessions.check(ck.Value, time.Now())
		}
		r := c.Request()
		if !ok {
			if isRead(r.Method) {
				to := "/signin?next=" + url.QueryEscape(r.URL.RequestURI())
				if r.Header.Get("HX-Request") == "true" {
					c.Response().Header().Set("HX-Redirect", to)
					return c.NoContent(http.StatusUnauthorized)
				}
				return c.Redirect(http.StatusSeeOther, to)
			}
			return newProblem(http.StatusUnauthorized, "unauthorized", "your session has ended; sign in again")
		}
		c.Set(sessionKey, sess)
		if !isRead(r.Method) {
			given := r.Header.Get(csrfHeader)
			if given == "" {
				given = r.FormValue(csrfField)
			}
			if subtle.ConstantTimeCompare([]byte(given), []byte(con.sessions.csrf(sess))) != 1 {
				return newProblem(http.StatusForbidden, "csrf", "the form is stale or came from another site; reload the page and try again")
			}
			if sess.token.Role != config.RoleAdmin && r.URL.Path != "/signout" {
				return newProblem(http.StatusForbidden, "forbidden", "token '"+sess.token.Name+"' is read-only")
			}
		}
		return next(c)
	}
}

type signInView struct {
	Next, Nonce, Error string
}

// signInForm shows the token form with a one-time nonce (double-submit
// cookie), so no other site can sign a browser in.
func (con *webConsole) signInForm(c echo.Context) error {
	return con.signInPage(c, http.StatusOK, "")
}

func (con *webConsole) signInPage(c echo.Context, status int, msg string) error {
	b := make([]byte, 18)
	_, _ = rand.Read(b)
	nonce := base64.RawURLEncoding.EncodeToString(b)
	setCookie(c, signInCookie, nonce, 600)
	return con.render(c, status, "signin", "Sign in", "", signInView{Next: safeNext(c.QueryParam("next")), Nonce: nonce, Error: msg})
}

func (con *webConsole) signIn(c echo.Context) error {
	ck, err := c.Cookie(signInCookie)
	if err != nil || ck.Value == "" || subtle.ConstantTimeCompare([]byte(ck.Value), []byte(c.FormValue("nonce"))) != 1 {
		return con.signInPage(c, http.StatusForbidden, "The sign-in form expired; try again.")
	}
	tok, ok := con.srv.auth.lookup("Bearer " + strings.TrimSpace(c.FormValue("token")))
	if !ok {
		con.srv.deps.Logger.WarnContext(c.Request().Context(), "console sign-in refused", "remote", c.RealIP())
		return con.signInPage(c, http.StatusUnauthorized, "That token is not one of the API tokens (API_TOKENS).")
	}
	setCookie(c, signInCookie, "", -1)
	setCookie(c, sessionCookie, con.sessions.issue(tok, time.Now()), int(sessionTTL/time.Second))
	con.srv.deps.Logger.InfoContext(c.Request().Context(), "console sign-in", "actor", tok.Name, "role", string(tok.Role))
	next := safeNext(c.FormValue("next"))
	if next == "" {
		next = "/"
	}
	return c.Redirect(http.StatusSeeOther, next)
}

func (con *webConsole) signOut(c echo.Context) error {
	if sess, ok := c.Get(sessionKey).(*session); ok {
		con.sessions.revoke(sess, time.Now())
	}
	setCookie(c, sessionCookie, "", -1)
	return c.Redirect(http.StatusSeeOther, "/signin")
}

// safeNext keeps post-sign-in redirects on this site.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return ""
	}
	return next
}

func setFlash(c echo.Context, msg string) {
	setCookie(c, flashCookie, base64.RawURLEncoding.EncodeToString([]byte(msg)), 60)
}

// takeFlash reads and clears the message a redirect left for this page.
func takeFlash(c echo.Context) string {
	ck, err := c.Cookie(flashCookie)
	if err != nil || ck.Value == "" {
		return ""
	}
	setCookie(c, flashCookie, "", -1)
	b, err := base64.RawURLEncoding.DecodeString(ck.Value)
	if err != nil {
		return ""
	}
	return string(b)
}
