package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/switchboardhq/switchboard/core/store"
	"github.com/switchboardhq/switchboard/plugins/sdk"
)

// apiError is an error meant for the client: a status, a stable code and a
// sentence naming the field or cause.
type apiError struct {
	Status  int
	Code    string
	Message string
}

func (e *apiError) Error() string { return e.Message }

func errBadRequest(format string, args ...any) error {
	return &apiError{Status: http.StatusBadRequest, Code: "invalid_request", Message: fmt.Sprintf(format, args...)}
}

func errInvalid(format string, args ...any) error {
	return &apiError{Status: http.StatusUnprocessableEntity, Code: "validation_failed", Message: fmt.Sprintf(format, args...)}
}

func errNotFound(format string, args ...any) error {
	return &apiError{Status: http.StatusNotFound, Code: "not_found", Message: fmt.Sprintf(format, args...)}
}

func errConflict(format string, args ...any) error {
	return &apiError{Status: http.StatusConflict, Code: "conflict", Message: fmt.Sprintf(format, args...)}
}

// errForbidden refuses a logged-in user of the admin UI whose role does not
// allow the call. Admin tokens are never refused it: they carry no role.
func errForbidden(format string, args ...any) error {
	return &apiError{Status: http.StatusForbidden, Code: "forbidden", Message: fmt.Sprintf(format, args...)}
}

func errUnauthorized(msg string) error {
	return &apiError{Status: http.StatusUnauthorized, Code: "unauthorized", Message: msg}
}

// fail is the one mapping from errors to responses. Unknown errors are
// logged whole and answered with a safe message and an id tying the two.
func (s *Server) fail(c *gin.Context, err error) {
	var ae *apiError
	switch {
	case errors.As(err, &ae):
	case errors.Is(err, store.ErrNotFound):
		ae = &apiError{Status: http.StatusNotFound, Code: "not_found", Message: "not found"}
	case errors.Is(err, store.ErrBadCursor):
		ae = &apiError{Status: http.StatusBadRequest, Code: "invalid_request", Message: "cursor is not one this API returned"}
	case errors.Is(err, store.ErrConflict):
		ae = &apiError{Status: http.StatusConflict, Code: "conflict", Message: "the request conflicts with the current state"}
	default:
		id := c.GetString(ctxRequestID)
		s.Log.Error("request failed", "request_id", id, "path", logPath(c), "err", err)
		c.AbortWithStatusJSON(http.StatusInternalServerError, gin.H{
			"error": "internal", "message": "internal error; quote this id when reporting it", "errorId": id,
		})
		return
	}
	c.AbortWithStatusJSON(ae.Status, gin.H{"error": ae.Code, "message": ae.Message})
}

// decode reads a JSON body strictly: unknown fields and trailing data are
// errors, and every message names the field at fault.
//
// Text no database stores faithfully, a NUL byte (raw or as \u0000) or
// invalid UTF-8 in any string, is refused here with 422 naming the field, so
// no handler can forget it.
func decode(c *gin.Context, dst any) error {
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, 1<<20))
	var maxErr *http.MaxBytesError
	switch {
	case errors.As(err, &maxErr):
		return errBadRequest("request body is larger than 1 MiB")
	case err != nil:
		return errBadRequest("could not read the request body")
	}
	if err := sdk.CheckJSONText(body); err != nil {
		return errInvalid("%s", err.Error())
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		var typeErr *json.UnmarshalTypeError
		var syntaxErr *json.SyntaxError
		switch {
		case errors.Is(err, io.EOF):
			return errBadRequest("request body is empty; expected a JSON object")
		case errors.Is(err, io.ErrUnexpectedEOF):
			return errBadRequest("request body is not valid JSON: it ends too soon")
		case errors.As(err, &typeErr):
			return errBadRequest("field %q must be %s", typeErr.Field, jsonKind(typeErr.Type.Kind().String()))
		case errors.As(err, &syntaxErr):
			return errBadRequest("request body is not valid JSON (at byte %d)", syntaxErr.Offset)
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			return errBadRequest("unknown field %s", strings.TrimPrefix(err.Error(), "json: unknown field "))
		}
		return errBadRequest("request body is not valid: %v", err)
	}
	if dec.More() {
		return errBadRequest("request body has data after the JSON object")
	}
	return nil
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "slice", "array":
		return "an array"
	case "struct", "map", "ptr":
		return "an object"
	case "int", "int64", "float64":
		return "a number"
	}
	return "of another type"
}

// checkParams refuses path and query parameters holding a NUL byte or
// invalid UTF-8 before any handler passes them to the database. Such a path
// id names no object: 404, as any unknown id. A query parameter is 422
// naming it.
func checkParams(c *gin.Context) error {
	for _, p := range c.Params {
		if sdk.CheckText(p.Key, p.Value) != nil {
			return errNotFound("not found")
		}
	}
	for key, vs := range c.Request.URL.Query() {
		if err := sdk.CheckText("query parameter name", key); err != nil {
			return errInvalid("%s", err.Error())
		}
		if len(key) > 64 {
			key = "(a long name)"
		}
		for _, v := range vs {
			if err := sdk.CheckText(key, v); err != nil {
				return errInvalid("query parameter %s", err.Error())
			}
		}
	}
	return nil
}
