package main

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/jobs/keys"
)

const (
	// monitoringRoot is where the Asynq web UI is mounted.
	monitoringRoot = "/monitoring"
	// sessionCookie carries a browser's monitoring session.
	sessionCookie = "ragq_monitoring"
	// monitoringSessionTTL is how long a monitoring session lasts.
	monitoringSessionTTL = 30 * time.Minute
	// ctxFormLogin marks a login sent by the HTML form rather than by an API
	// client.
	ctxFormLogin = "form_login"
)

// sessionKey derives the cookie-signing key from RAGQ_SESSION_SECRET, or
// makes a random one for this process when it is empty.
func sessionKey(secret string) ([]byte, error) {
	if secret != "" {
		sum := sha256.Sum256([]byte("ragqueue monitoring session\x00" + secret))
		return sum[:], nil
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("session key: %w", err)
	}
	return b, nil
}

// signSession makes a cookie value naming the key (by the hash of its
// secret, so that revoking or rotating the key ends its sessions) and the
// expiry, signed with HMAC-SHA256.
func (s *server) signSession(keyHash []byte, expires time.Time) string {
	payload := "1|" + strconv.FormatInt(expires.Unix(), 10) + "|" + base64.RawURLEncoding.EncodeToString(keyHash)
	mac := hmac.New(sha256.New, s.sessionKey)
	mac.Write([]byte(payload))
	return base64.RawURLEncoding.EncodeToString([]byte(payload)) + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

var errBadSession = ragqueue.Errorf(ragqueue.EUNAUTH,
	"the monitoring session is invalid or has expired; sign in again at "+monitoringRoot+"/")

// verifySession checks a cookie value signSession made and returns the key
// hash it names.
func (s *server) verifySession(value string, now time.Time) ([]byte, error) {
	p64, sig64, ok := strings.Cut(value, ".")
	if !ok {
		return nil, errBadSession
	}
	payload, err1 := base64.RawURLEncoding.DecodeString(p64)
	sig, err2 := base64.RawURLEncoding.DecodeString(sig64)
	if err1 != nil || err2 != nil {
		return nil, errBadSession
	}
	mac := hmac.New(sha256.New, s.sessionKey)
	mac.Write(payload)
	if !hmac.Equal(sig, mac.Sum(nil)) {
		return nil, errBadSession
	}
	parts := strings.Split(string(payload), "|")
	if len(parts) != 3 || parts[0] != "1" {
		return nil, errBadSession
	}
	exp, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil || !now.Before(time.Unix(exp, 0)) {
		return nil, errBadSession
	}
	hash, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || len(hash) != sha256.Size {
		return nil, errBadSession
	}
	return hash, nil
}

// monitoringAuth lets admin keys into the Asynq UI, by bearer header or by
// the session cookie from POST /v1/admin/monitoring-session: 401 without
// either (a browser gets the sign-in form), 403 for other roles.
func (s *server) monitoringAuth() gin.HandlerFunc {
	return func(c *gin.Context) {
		var (
			k   ragqueue.Key
			err error
		)
		if c.GetHeader("Authorization") != "" {
			k, err = s.bearerKey(c)
		} else if cookie, cerr := c.Cookie(sessionCookie); cerr == nil {
			var hash []byte
			if !sameOrigin(c) {
				// SameSite=Strict already keeps the cookie off cross-site
				// requests; this also refuses them if a browser does not.
				err = ragqueue.Errorf(ragqueue.EFORBIDDEN, "cross-origin requests to the monitoring UI are refused")
			} else if hash, err = s.verifySession(cookie, time.Now()); err == nil {
				k, err = s.keys.AuthenticateHash(c.Request.Context(), hash)
				if ragqueue.IsNotFound(err) {
					err = errBadSession
				}
			}
		} else {
			err = ragqueue.Errorf(ragqueue.EUNAUTH, "sign in: POST /v1/admin/monitoring-session with an admin key (a browser gets a form at %s/), or send \"Authorization: Bearer <admin key>\"", monitoringRoot)
		}
		if err == nil {
			err = keys.CheckOperator(k)
		}
		if err != nil {
			if c.Request.Method == http.MethodGet && strings.Contains(c.GetHeader("Accept"), "text/html") {
				_, status := statusOf(err)
				s.loginPage(c, status, ragqueue.ErrorMessage(err))
				return
			}
			s.fail(c, err)
			return
		}
		c.Set(ctxKey, k)
		c.Next()
	}
}

// sameOrigin reports whether a state-changing request comes from this
// server's own pages: safe methods always pass, others must not name
// another origin.
func sameOrigin(c *gin.Context) bool {
	switch c.Request.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return true
	}
	origin := c.GetHeader("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	return err == nil && u.Host == c.Request.Host
}

// serveMonitoring hands the request to the Asynq UI.
func (s *server) serveMonitoring(c *gin.Context) {
	if s.monitor == nil {
		s.fail(c, ragqueue.Errorf(ragqueue.EUNAVAILABLE, "the monitoring UI is not set up in this process"))
		return
	}
	s.monitor.ServeHTTP(c.Writer, c.Request)
}

// authenticateLogin is authenticate for the sign-in route, which also
// accepts the key as the "key" field of the HTML form.
func (s *server) authenticateLogin() gin.HandlerFunc {
	bearer := s.authenticate()
	return func(c *gin.Context) {
		if c.GetHeader("Authorization") != "" || c.ContentType() != "application/x-www-form-urlencoded" {
			bearer(c)
			return
		}
		c.Set(ctxFormLogin, true)
		secret := strings.TrimSpace(c.PostForm("key"))
		var (
			k   ragqueue.Key
			err error
		)
		if secret == "" {
			err = ragqueue.Errorf(ragqueue.EUNAUTH, "enter an admin API key")
		} else {
			k, err = s.keys.Authenticate(c.Request.Context(), secret)
		}
		if err == nil {
			err = keys.CheckOperator(k)
		}
		if err != nil {
			_, status := statusOf(normalize(err))
			if status >= 500 {
				s.fail(c, err)
				return
			}
			s.loginPage(c, status, ragqueue.ErrorMessage(err))
			return
		}
		c.Set(ctxKey, k)
		c.Next()
	}
}

// createMonitoringSession signs the admin in to the Asynq UI with a
// short-lived cookie scoped to /monitoring.
func (s *server) createMonitoringSession(c *gin.Context) {
	k := key(c)
	expires := time.Now().Add(monitoringSessionTTL).Truncate(time.Second)
	http.SetCookie(c.Writer, &http.Cookie{
		Name:     sessionCookie,
		Value:    s.signSession(k.Hash, expires),
		Path:     monitoringRoot,
		Expires:  expires,
		MaxAge:   int(monitoringSessionTTL / time.Second),
		HttpOnly: true,
		Secure:   c.Request.TLS != nil || strings.EqualFold(c.GetHeader("X-Forwarded-Proto"), "https"),
		SameSite: http.SameSiteStrictMode,
	})
	s.audit(c, "monitoring.login", "", "")
	if c.GetBool(ctxFormLogin) {
		c.Redirect(http.StatusSeeOther, monitoringRoot+"/")
		return
	}
	c.JSON(http.StatusCreated, gin.H{"expires_at": expires.UTC(), "url": monitoringRoot + "/"})
}

var loginTemplate = template.Must(template.New("login").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>ragqueue monitoring: sign in</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family: sans-serif; max-width: 28em; margin: 4em auto">
<h1>ragqueue monitoring</h1>
{{if .}}<p role="alert" style="color: #a00">{{.}}</p>{{end}}
<form method="post" action="/v1/admin/monitoring-session">
<label>Admin API key<br><input type="password" name="key" autocomplete="off" required style="width: 100%"></label>
<p><button type="submit">Sign in</button></p>
</form>
<p>The session lasts 30 minutes and ends when the key is revoked or rotated.</p>
</body></html>
`))

// loginPage answers a browser with the sign-in form and message.
func (s *server) loginPage(c *gin.Context, status int, message string) {
	h := c.Writer.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	// The form posts to /v1, which the /monitoring policy's form-action
	// 'self' allows; this page is served from either path.
	h.Set("Content-Security-Policy", monitoringCSP)
	c.Status(status)
	if err := loginTemplate.Execute(c.Writer, message); err != nil && !errors.Is(err, http.ErrHandlerTimeout) {
		s.logger.Warn("write login page", "error", err)
	}
	c.Abort()
}
