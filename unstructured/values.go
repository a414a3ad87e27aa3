package unstructured

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/tidwall/gjson"
)

// IntOrString is a Kubernetes int-or-string value (a Service's targetPort
// 8080 or "http", a Deployment's maxSurge 1 or "25%"), read from JSON the
// way the API server reads it: a JSON string is a string, anything else
// must be an integer that fits an int32.
//
// IntOrString values are immutable, safe for concurrent use and to copy.
// The zero value is the integer 0.
type IntOrString struct {
	str   string
	i     int32
	isStr bool
}

// IntOrStringFromInt returns the integer form.
func IntOrStringFromInt(i int32) IntOrString { return IntOrString{i: i} }

// IntOrStringFromString returns the string form.
func IntOrStringFromString(s string) IntOrString { return IntOrString{str: s, isStr: true} }

// IntOrStringOf reads an int-or-string field: a JSON string, or an integer
// within int32 (1.0 and 1e2 are refused, as the server refuses them). A
// null or absent field is the integer 0. Errors wrap ErrInvalidValue.
func IntOrStringOf(r gjson.Result) (IntOrString, error) {
	switch r.Type {
	case gjson.Null:
		return IntOrString{}, nil
	case gjson.String:
		return IntOrStringFromString(validString(r.Str)), nil
	case gjson.Number:
		i, err := strconv.ParseInt(r.Raw, 10, 32)
		if err != nil {
			return IntOrString{}, fmt.Errorf("int-or-string %s: not an int32 integer: %w", r.Raw, ErrInvalidValue)
		}
		return IntOrStringFromInt(int32(i)), nil
	}
	return IntOrString{}, fmt.Errorf("int-or-string %.64s: neither a string nor a number: %w", r.Raw, ErrInvalidValue)
}

// IsString reports whether v holds a string.
func (v IntOrString) IsString() bool { return v.isStr }

// IntVal returns the integer, or 0 when v holds a string.
func (v IntOrString) IntVal() int32 { return v.i }

// StrVal returns the string, or "" when v holds an integer.
func (v IntOrString) StrVal() string { return v.str }

// String returns the string, or the integer in decimal.
func (v IntOrString) String() string {
	if v.isStr {
		return v.str
	}
	return strconv.Itoa(int(v.i))
}

// MarshalJSON writes a JSON string or number.
func (v IntOrString) MarshalJSON() ([]byte, error) {
	if v.isStr {
		return json.Marshal(v.str)
	}
	return strconv.AppendInt(nil, int64(v.i), 10), nil
}

// UnmarshalJSON reads what IntOrStringOf reads.
func (v *IntOrString) UnmarshalJSON(data []byte) error {
	if !gjson.ValidBytes(data) {
		return fmt.Errorf("int-or-string: malformed JSON: %w", ErrInvalidValue)
	}
	p, err := IntOrStringOf(gjson.ParseBytes(data))
	if err != nil {
		return err
	}
	*v = p
	return nil
}

// ScaledValue resolves v against total as the Deployment and
// PodDisruptionBudget controllers do (GetScaledValueFromIntOrPercent): an
// integer is itself; a string must be a percentage ("25%"), which is
// scaled to total and rounded up when roundUp is set, down otherwise
// ("25%" of 10 is 3 rounded up, 2 rounded down). A string that is not a
// percentage is an error wrapping ErrInvalidValue.
func (v IntOrString) ScaledValue(total int, roundUp bool) (int, error) {
	if !v.isStr {
		return int(v.i), nil
	}
	s, ok := strings.CutSuffix(v.str, "%")
	if !ok {
		return 0, fmt.Errorf("int-or-string %q: a string is not a percentage: %w", v.str, ErrInvalidValue)
	}
	p, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("int-or-string %q: not a whole percentage: %w", v.str, ErrInvalidValue)
	}
	// The controllers compute in float64; so does this, to round alike.
	f := float64(p) * float64(total) / 100
	if roundUp {
		return int(math.Ceil(f)), nil
	}
	return int(math.Floor(f)), nil
}

// ResolveFenceposts returns how many pods above and below replicas a
// rolling update may go, as the Deployment controller resolves
// spec.strategy.rollingUpdate's maxSurge (rounded up) and maxUnavailable
// (rounded down); when both come to 0, maxUnavailable is 1. Absent fields
// read as 0 here: objects read from the server carry their defaults
// (25% each).
func ResolveFenceposts(maxSurge, maxUnavailable IntOrString, replicas int32) (surge, unavailable int32, err error) {
	s, err := maxSurge.ScaledValue(int(replicas), true)
	if err != nil {
		return 0, 0, fmt.Errorf("maxSurge: %w", err)
	}
	u, err := maxUnavailable.ScaledValue(int(replicas), false)
	if err != nil {
		return 0, 0, fmt.Errorf("maxUnavailable: %w", err)
	}
	if s == 0 && u == 0 {
		u = 1
	}
	return int32(s), int32(u), nil
}

// DurationOf reads a metav1.Duration field: a Go duration string such as
// "1h30m" or "90s" (time.ParseDuration's syntax, what the server accepts).
// A null or absent field is 0. Errors wrap ErrInvalidValue.
func DurationOf(r gjson.Result) (time.Duration, error) {
	switch r.Type {
	case gjson.Null:
		return 0, nil
	case gjson.String:
		d, err := time.ParseDuration(r.Str)
		if err != nil {
			return 0, fmt.Errorf("duration: %w: %w", err, ErrInvalidValue)
		}
		return d, nil
	}
	return 0, fmt.Errorf("duration %.64s: not a string: %w", r.Raw, ErrInvalidValue)
}

// FormatDuration writes d as the server writes a metav1.Duration:
// time.Duration's String ("1h30m0s", "1m30s", "0s").
func FormatDuration(d time.Duration) string { return d.String() }

// RFC3339Micro is the layout of a metav1.MicroTime: RFC 3339 with exactly
// six fractional digits.
const RFC3339Micro = "2006-01-02T15:04:05.000000Z07:00"

// TimeOf reads a metav1.Time field (creationTimestamp, lastTransitionTime):
// RFC 3339 text, parsed as the server parses it (a fraction of a second
// is accepted and kept, though the server writes whole seconds). The
// result is in UTC. A null or absent field is the zero time. Errors wrap
// ErrInvalidValue.
func TimeOf(r gjson.Result) (time.Time, error) { return timeOf(r, time.RFC3339) }

// MicroTimeOf reads a metav1.MicroTime field (an Event's eventTime, a
// Lease's renewTime): RFC 3339 with six fractional digits. The result is
// in UTC; null or absent is the zero time. Errors wrap ErrInvalidValue.
func MicroTimeOf(r gjson.Result) (time.Time, error) { return timeOf(r, RFC3339Micro) }

func timeOf(r gjson.Result, layout string) (time.Time, error) {
	switch r.Type {
	case gjson.Null:
		return time.Time{}, nil
	case gjson.String:
		t, err := time.Parse(layout, r.Str)
		if err != nil {
			return time.Time{}, fmt.Errorf("time: %w: %w", err, ErrInvalidValue)
		}
		return t.UTC(), nil
	}
	return time.Time{}, fmt.Errorf("time %.64s: not a string: %w", r.Raw, ErrInvalidValue)
}

// FormatTime writes t as the server writes a metav1.Time: in UTC, whole
// seconds ("2026-11-28T10:00:00Z"); the fraction is dropped, not rounded.
// The zero time gives "", which the server writes as null.
func FormatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// FormatMicroTime writes t as the server writes a metav1.MicroTime: in UTC
// with six fractional digits ("2026-11-28T10:00:00.123456Z"). The zero
// time gives "", which the server writes as null.
func FormatMicroTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(RFC3339Micro)
}
