package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
)

// decodeJSON reads one JSON object from the request body into dst and turns
// every way that can go wrong into a 400 (or 413) that says what to fix.
func decodeJSON(c *gin.Context, dst any) error {
	dec := json.NewDecoder(c.Request.Body)
	dec.DisallowUnknownFields()
	err := dec.Decode(dst)
	if err == nil {
		// Anything after the object, even a second object, is refused.
		if _, err := dec.Token(); !errors.Is(err, io.EOF) {
			return invalid("the body must hold a single JSON object")
		}
		return nil
	}
	var (
		syntaxErr *json.SyntaxError
		typeErr   *json.UnmarshalTypeError
		tooLarge  *http.MaxBytesError
	)
	switch {
	case errors.As(err, &tooLarge):
		return err
	case errors.As(err, &syntaxErr):
		return invalid("the body is not valid JSON (at byte %d)", syntaxErr.Offset)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return invalid("the body is not valid JSON (it ends too early)")
	case errors.As(err, &typeErr):
		if typeErr.Field != "" {
			return invalid("field %q must be a JSON %s", typeErr.Field, jsonKind(typeErr.Type.Kind().String()))
		}
		return invalid("the body must be a JSON object")
	case errors.Is(err, io.EOF):
		return invalid("the body is empty; send a JSON object")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return invalid("unknown field %s", strings.TrimPrefix(err.Error(), "json: unknown field "))
	default:
		return invalid("the body cannot be decoded: %v", err)
	}
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "string"
	case "int", "int64", "int32", "float64", "float32", "uint", "uint64":
		return "number"
	case "bool":
		return "boolean"
	case "slice":
		return "array"
	default:
		return fmt.Sprintf("value of another type (%s)", goKind)
	}
}
