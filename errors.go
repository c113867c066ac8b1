package houqin

import (
	"errors"
	"fmt"
)

// Error codes. They are stable: clients and metrics depend on them, and each
// maps to exactly one HTTP status in the api package.
const (
	EINVALID      = "EINVALID"      // the input is malformed or breaks a rule
	EUNAUTHORIZED = "EUNAUTHORIZED" // no valid credentials
	EFORBIDDEN    = "EFORBIDDEN"    // valid credentials, not allowed
	ENOTFOUND     = "ENOTFOUND"     // the thing does not exist
	ECONFLICT     = "ECONFLICT"     // the state moved on: wrong expected version, decided already
	ENOTALLOWED   = "ENOTALLOWED"   // well-formed, but the current state does not allow it (422)
	EUNAVAILABLE  = "EUNAVAILABLE"  // a dependency is down or not ready; retry later
	EMETHOD       = "EMETHOD"       // the resource does not take this HTTP method (405)
	EMEDIATYPE    = "EMEDIATYPE"    // the body is not of a media type the resource takes (415)
	EINTERNAL     = "EINTERNAL"     // a bug or an unexpected failure; never shown in detail
)

// Error is an error a user can cause and understand. Its Message is safe to
// show to clients; anything else is wrapped with fmt.Errorf and reported as
// EINTERNAL.
type Error struct {
	Code    string
	Message string
}

// Error implements the error interface.
func (e *Error) Error() string {
	return fmt.Sprintf("houqin error: code=%s message=%s", e.Code, e.Message)
}

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code string, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, "" for nil,
// and EINTERNAL for any other error.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the message of the first *Error in err's chain, "" for
// nil, and a generic text for any other error, so internals never leak.
func ErrorMessage(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Message
	}
	return "Internal error."
}
