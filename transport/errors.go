package transport

import "errors"

// CONTRACT STUB: the transport helper replaces this file.

// APIError is a non-2xx response, decoded from the server's Status when the
// body is one.
type APIError struct {
	StatusCode int
	Reason     string
	Message    string
	Details    *StatusDetails
}

// StatusDetails is metav1.StatusDetails.
type StatusDetails struct {
	Name              string
	Group             string
	Kind              string
	UID               string
	Causes            []StatusCause
	RetryAfterSeconds int
}

// StatusCause is one cause, such as a field error.
type StatusCause struct {
	Type    string
	Message string
	Field   string
}

func (e *APIError) Error() string { return e.Message }

// Sentinels matched with errors.Is.
var (
	ErrNotFound           = errors.New("not found")
	ErrAlreadyExists      = errors.New("already exists")
	ErrConflict           = errors.New("conflict")
	ErrInvalid            = errors.New("invalid")
	ErrForbidden          = errors.New("forbidden")
	ErrUnauthorized       = errors.New("unauthorized")
	ErrGone               = errors.New("gone")
	ErrTooManyRequests    = errors.New("too many requests")
	ErrServerTimeout      = errors.New("server timeout")
	ErrMethodNotSupported = errors.New("method not supported")
	ErrBadRequest         = errors.New("bad request")
	ErrInvalidName        = errors.New("invalid name")
)
