package unstructured

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"unicode/utf8"

	"github.com/tidwall/gjson"
)

// encodeValue returns the JSON text of v. Integers are written with their
// exact digits (never through float64). Strings are escaped the way
// encoding/json escapes them except that <, > and & are kept as they are;
// invalid UTF-8 becomes U+FFFD. Object, gjson.Result, json.RawMessage and
// json.Number are written as the JSON they hold, after validation. Any other
// type goes through encoding/json.
func encodeValue(v any) (string, error) {
	switch x := v.(type) {
	case nil:
		return "null", nil
	case string:
		return string(appendQuoted(nil, x)), nil
	case bool:
		if x {
			return "true", nil
		}
		return "false", nil
	case int:
		return strconv.FormatInt(int64(x), 10), nil
	case int8:
		return strconv.FormatInt(int64(x), 10), nil
	case int16:
		return strconv.FormatInt(int64(x), 10), nil
	case int32:
		return strconv.FormatInt(int64(x), 10), nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case uint:
		return strconv.FormatUint(uint64(x), 10), nil
	case uint8:
		return strconv.FormatUint(uint64(x), 10), nil
	case uint16:
		return strconv.FormatUint(uint64(x), 10), nil
	case uint32:
		return strconv.FormatUint(uint64(x), 10), nil
	case uint64:
		return strconv.FormatUint(x, 10), nil
	case float64:
		return encodeFloat(x, 64)
	case float32:
		return encodeFloat(float64(x), 32)
	case json.Number:
		return rawValue(string(x))
	case json.RawMessage:
		return rawValue(string(x))
	case Object:
		if x.IsZero() {
			return "", fmt.Errorf("%w: zero Object", ErrInvalidValue)
		}
		return x.raw, nil
	case gjson.Result:
		if !x.Exists() {
			return "", fmt.Errorf("%w: gjson.Result that does not exist", ErrInvalidValue)
		}
		return rawValue(x.Raw)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "", fmt.Errorf("%w: %w", ErrInvalidValue, err)
	}
	return string(bytes.TrimRight(buf.Bytes(), "\n")), nil
}

func encodeFloat(f float64, bits int) (string, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return "", fmt.Errorf("%w: %v has no JSON form", ErrInvalidValue, f)
	}
	if bits == 32 {
		b, err := json.Marshal(float32(f))
		return string(b), err
	}
	b, err := json.Marshal(f)
	return string(b), err
}

// rawValue validates s as one JSON value.
func rawValue(s string) (string, error) {
	if len(s) > MaxObjectBytes {
		return "", fmt.Errorf("%w: value of %d bytes", ErrTooLarge, len(s))
	}
	var sc scanner
	if err := sc.validateValue(s); err != nil {
		return "", fmt.Errorf("%w: %w", ErrInvalidValue, err)
	}
	return s, nil
}

const hexDigits = "0123456789abcdef"

// appendQuoted appends s as a JSON string.
func appendQuoted(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
