package app

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// env reads settings from the environment for LoadConfig and collects
// what is wrong with them, so that one error can name every bad setting.
type env struct {
	getenv func(string) string
	errs   []error
}

// get returns the trimmed value of name, or def when it is unset or blank.
func (e *env) get(name, def string) string {
	if v := strings.TrimSpace(e.getenv(name)); v != "" {
		return v
	}
	return def
}

// bad records what is wrong with setting name.
func (e *env) bad(name, format string, args ...any) {
	e.errs = append(e.errs, fmt.Errorf("%s: %s", name, fmt.Sprintf(format, args...)))
}

// number reads a whole number from min to max; def when unset or bad.
func (e *env) number(name string, def, min, max int64) int64 {
	s := e.get(name, strconv.FormatInt(def, 10))
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < min || v > max {
		e.bad(name, "%q is not a whole number from %d to %d", s, min, max)
		return def
	}
	return v
}

// duration reads a positive duration; def when unset or bad.
func (e *env) duration(name string, def time.Duration) time.Duration {
	s := e.get(name, def.String())
	v, err := time.ParseDuration(s)
	if err != nil || v <= 0 {
		e.bad(name, "%q is not a positive duration such as 30s or 2m", s)
		return def
	}
	return v
}

// list reads a list separated by commas or spaces.
func (e *env) list(name, def string) []string {
	return strings.FieldsFunc(e.get(name, def), func(r rune) bool { return r == ',' || r == ' ' })
}

// checkOrigin accepts "*" or a bare origin such as https://app.example.com
// (scheme, host and optional port; no path, query or credentials).
func checkOrigin(o string) error {
	if o == "*" {
		return nil
	}
	u, err := url.Parse(o)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		u.User != nil || strings.TrimSuffix(u.Path, "/") != "" || u.RawQuery != "" || u.Fragment != "" {
		return errors.New("is not an origin such as https://app.example.com, or *")
	}
	return nil
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("%q is not debug, info, warn or error", s)
	}
	return l, nil
}
