package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/switchboardhq/switchboard/core/store"
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
	case errors.Is(err, store.ErrConflict):
		ae = &apiError{Status: http.StatusConflict, Code: "conflict", Message: "the request conflicts with the current state"}
	default:
		id := c.GetString(ctxRequestID)
		s.Log.Error("request failed", "request_id", id, "path", c.Request.URL.Path, "err", err)
		c.AbortWithStatusJSON(http.StatusInternalServerError, gin.H{
			"error": "internal", "message": "internal error; quote this id when reporting it", "errorId": id,
		})
		return
	}
	c.AbortWithStatusJSON(ae.Status, gin.H{"error": ae.Code, "message": ae.Message})
}

// decode reads a JSON body strictly: unknown fields and trailing data are
// errors, and every message names the field at fault.
func decode(c *gin.Context, dst any) error {
	body := http.MaxBytesReader(c.Writer, c.Request.Body, 1<<20)
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		var typeErr *json.UnmarshalTypeError
		var syntaxErr *json.SyntaxError
		var maxErr *http.MaxBytesError
		switch {
		case errors.Is(err, io.EOF):
			return errBadRequest("request body is empty; expected a JSON object")
		case errors.Is(err, io.ErrUnexpectedEOF):
			return errBadRequest("request body is not valid JSON: it ends too soon")
		case errors.As(err, &typeErr):
			return errBadRequest("field %q must be %s", typeErr.Field, jsonKind(typeErr.Type.Kind().String()))
		case errors.As(err, &syntaxErr):
			return errBadRequest("request body is not valid JSON (at byte %d)", syntaxErr.Offset)
		case errors.As(err, &maxErr):
			return errBadRequest("request body is larger than 1 MiB")
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
