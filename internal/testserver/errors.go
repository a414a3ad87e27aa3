package testserver

import (
	"fmt"
	"net/http"
)

// apiStatus is a metav1.Status as the API server writes it.
type apiStatus struct {
	Kind       string         `json:"kind"`
	APIVersion string         `json:"apiVersion"`
	Metadata   struct{}       `json:"metadata"`
	Status     string         `json:"status"`
	Message    string         `json:"message,omitempty"`
	Reason     string         `json:"reason,omitempty"`
	Details    *statusDetails `json:"details,omitempty"`
	Code       int            `json:"code,omitempty"`
}

type statusDetails struct {
	Name              string        `json:"name,omitempty"`
	Group             string        `json:"group,omitempty"`
	Kind              string        `json:"kind,omitempty"`
	UID               string        `json:"uid,omitempty"`
	Causes            []statusCause `json:"causes,omitempty"`
	RetryAfterSeconds int           `json:"retryAfterSeconds,omitempty"`
}

type statusCause struct {
	Reason  string `json:"reason,omitempty"`
	Message string `json:"message,omitempty"`
	Field   string `json:"field,omitempty"`
}

// statusError is an error that the handlers turn into a Status response.
type statusError struct{ s apiStatus }

func (e *statusError) Error() string { return e.s.Message }

func newStatus(code int, reason, message string, details *statusDetails) *statusError {
	return &statusError{s: apiStatus{
		Kind: "Status", APIVersion: "v1", Status: "Failure",
		Message: message, Reason: reason, Details: details, Code: code,
	}}
}

// qualified is "pods" or "deployments.apps", the way the server names a
// group-resource in messages.
func qualified(group, resource string) string {
	if group == "" {
		return resource
	}
	return resource + "." + group
}

func errNotFound(group, resource, name string) *statusError {
	return newStatus(http.StatusNotFound, "NotFound",
		fmt.Sprintf("%s %q not found", qualified(group, resource), name),
		&statusDetails{Name: name, Group: group, Kind: resource})
}

func errAlreadyExists(group, resource, name string) *statusError {
	return newStatus(http.StatusConflict, "AlreadyExists",
		fmt.Sprintf("%s %q already exists", qualified(group, resource), name),
		&statusDetails{Name: name, Group: group, Kind: resource})
}

func errConflict(group, resource, name, why string) *statusError {
	return newStatus(http.StatusConflict, "Conflict",
		fmt.Sprintf("Operation cannot be fulfilled on %s %q: %s", qualified(group, resource), name, why),
		&statusDetails{Name: name, Group: group, Kind: resource})
}

const conflictModified = "the object has been modified; please apply your changes to the latest version and try again"

// errInvalid is the 422 answer of failed validation; kind is the object's
// Kind (not the resource), as the real server reports it.
func errInvalid(group, kind, name string, causes []statusCause) *statusError {
	msg := fmt.Sprintf("%s %q is invalid: ", kind, name)
	if group != "" {
		msg = fmt.Sprintf("%s.%s %q is invalid: ", kind, group, name)
	}
	for i, c := range causes {
		if i > 0 {
			msg += ", "
		}
		if len(causes) > 1 && i == 0 {
			msg += "["
		}
		msg += c.Field + ": " + c.Message
	}
	if len(causes) > 1 {
		msg += "]"
	}
	return newStatus(http.StatusUnprocessableEntity, "Invalid", msg,
		&statusDetails{Name: name, Group: group, Kind: kind, Causes: causes})
}

func causeInvalid(field string, value any, detail string) statusCause {
	return statusCause{Reason: "FieldValueInvalid", Field: field,
		Message: fmt.Sprintf("Invalid value: %s: %s", quoteValue(value), detail)}
}

func causeRequired(field, detail string) statusCause {
	msg := "Required value"
	if detail != "" {
		msg += ": " + detail
	}
	return statusCause{Reason: "FieldValueRequired", Field: field, Message: msg}
}

func causeUnsupported(field string, value any, supported []string) statusCause {
	msg := fmt.Sprintf("Unsupported value: %s", quoteValue(value))
	if len(supported) > 0 {
		msg += ": supported values: "
		for i, s := range supported {
			if i > 0 {
				msg += ", "
			}
			msg += fmt.Sprintf("%q", s)
		}
	}
	return statusCause{Reason: "FieldValueNotSupported", Field: field, Message: msg}
}

// rawValue is a value printed without quotes in a cause message.
type rawValue string

func quoteValue(v any) string {
	if r, ok := v.(rawValue); ok {
		return string(r)
	}
	if s, ok := v.(string); ok {
		return fmt.Sprintf("%q", s)
	}
	return fmt.Sprintf("%v", v)
}

func errBadRequest(msg string) *statusError {
	return newStatus(http.StatusBadRequest, "BadRequest", msg, nil)
}

func errMethodNotAllowed() *statusError {
	return newStatus(http.StatusMethodNotAllowed, "MethodNotAllowed",
		"the server does not allow this method on the requested resource", &statusDetails{})
}

func errNoResource() *statusError {
	return newStatus(http.StatusNotFound, "NotFound",
		"the server could not find the requested resource", &statusDetails{})
}

func errUnsupportedMediaType(accepted string) *statusError {
	return newStatus(http.StatusUnsupportedMediaType, "UnsupportedMediaType",
		fmt.Sprintf("the body of the request was in an unknown format - accepted media types include: %s", accepted), nil)
}

func errGoneExpired(msg string) *statusError {
	return newStatus(http.StatusGone, "Expired", msg, nil)
}

// errForCode is the Status an injected fault answers with.
func errForCode(code int, retryAfter int) *statusError {
	reason, msg := "", fmt.Sprintf("the server responded with the status code %d but did not return more information", code)
	switch code {
	case http.StatusBadRequest:
		reason, msg = "BadRequest", "the server rejected our request for an unknown reason"
	case http.StatusUnauthorized:
		reason, msg = "Unauthorized", "Unauthorized"
	case http.StatusForbidden:
		reason, msg = "Forbidden", "forbidden"
	case http.StatusNotFound:
		reason, msg = "NotFound", "the server could not find the requested resource"
	case http.StatusMethodNotAllowed:
		reason, msg = "MethodNotAllowed", "the server does not allow this method on the requested resource"
	case http.StatusConflict:
		reason, msg = "Conflict", "the server reported a conflict"
	case http.StatusGone:
		reason, msg = "Gone", "the requested resource is no longer available"
	case http.StatusUnprocessableEntity:
		reason, msg = "Invalid", "the server rejected our request due to an error in our request"
	case http.StatusTooManyRequests:
		reason, msg = "TooManyRequests", "the server has received too many requests and has asked us to try again later"
	case http.StatusInternalServerError:
		reason, msg = "InternalError", "an error on the server has prevented the request from succeeding"
	case http.StatusServiceUnavailable:
		reason, msg = "ServiceUnavailable", "the server is currently unable to handle the request"
	case http.StatusGatewayTimeout:
		reason, msg = "Timeout", "the server was unable to return a response in the time allotted, but may still be processing the request"
	}
	var d *statusDetails
	if retryAfter > 0 {
		d = &statusDetails{RetryAfterSeconds: retryAfter}
	}
	return newStatus(code, reason, msg, d)
}
