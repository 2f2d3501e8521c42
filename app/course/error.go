// Package course holds the domain of Course Supporter: plain types, the
// service interfaces the adapters implement, and the one error type every
// layer speaks. It imports no adapter and no framework, so the rules of the
// product can be read without knowing how they are stored or served.
package course

import (
	"errors"
	"fmt"
)

// Error codes. They are deliberately few: each maps to exactly one HTTP
// status in the api package, and nowhere else (docs/design/api.md,
// "Errors").
const (
	EMALFORMED    = "malformed"   // the request could not be parsed at all
	EUNSUPPORTED  = "unsupported" // the request's media type is not accepted
	ENOTFOUND     = "not_found"
	ECONFLICT     = "conflict"
	EINVALID      = "invalid"
	EUNAUTHORIZED = "unauthorized"
	EFORBIDDEN    = "forbidden"
	ETOOLARGE     = "too_large"
	EUNAVAILABLE  = "unavailable"
	ERATELIMITED  = "rate_limited"
	EINTERNAL     = "internal"
)

// Error is a domain error whose Message is safe to show to a client.
// Anything that is not an *Error is treated as internal and its text is
// never sent over the wire.
type Error struct {
	Code    string
	Message string
	// Field, when set, names the one input the error is about, as a
	// location such as "body.source_type", and Reason its kind ("missing",
	// "enum"); the API then answers a one-item validation list. Input is
	// the offending value, if any.
	Field  string
	Reason string
	Input  any
}

// FieldError is an EINVALID error about one input field.
func FieldError(field, reason, msg string, input any) *Error {
	return &Error{Code: EINVALID, Message: msg, Field: field, Reason: reason, Input: input}
}

// Error implements the error interface.
func (e *Error) Error() string {
	return fmt.Sprintf("course error: code=%s message=%s", e.Code, e.Message)
}

// Errorf builds a client-safe domain error.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, or
// EINTERNAL for any other non-nil error.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the client-safe message of err, or a generic text for
// errors that are not domain errors, so internals never leak.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "Internal server error"
}
