package testserver

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/http"
	"reflect"
	"slices"
	"time"

	"sigs.k8s.io/yaml"
)

// maxBody is the largest request body accepted, as the real server's 3 MiB
// limit.
const maxBody = 3 << 20

func writeJSON(w http.ResponseWriter, code int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		code = http.StatusInternalServerError
		body, _ = json.Marshal(errForCode(code, 0).s)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write(body)
}

func writeStatus(w http.ResponseWriter, e *statusError) {
	writeJSON(w, e.s.Code, e.s)
}

// writeErr writes err as a Status; errors that are not Status errors become
// 500 InternalError.
func writeErr(w http.ResponseWriter, err error) {
	var se *statusError
	if errors.As(err, &se) {
		writeStatus(w, se)
		return
	}
	st := errForCode(http.StatusInternalServerError, 0)
	st.s.Message = "Internal error occurred: " + err.Error()
	writeStatus(w, st)
}

// readBody reads a request body up to maxBody.
func readBody(r *http.Request) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return nil, errBadRequest("read request body: " + err.Error())
	}
	if len(data) > maxBody {
		return nil, newStatus(http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", "Request entity too large: limit is 3145728", nil)
	}
	return data, nil
}

// decodeJSON decodes one JSON value keeping numbers exact.
func decodeJSON(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("unexpected data after the top-level value")
	}
	return v, nil
}

// decodeBodyAs decodes the body of a create or update by its Content-Type:
// JSON (also when none is given) or YAML; anything else is 415.
func decodeBodyAs(r *http.Request, kind string, data []byte) (map[string]any, error) {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch mt {
	case "", "application/json":
		return decodeBodyFor(kind, data)
	case "application/yaml":
		js, err := yaml.YAMLToJSON(data)
		if err != nil {
			return nil, errBadRequest(fmt.Sprintf("the object provided is unrecognized (must be of type %s): couldn't get version/kind; yaml parse error: %v", kind, err))
		}
		return decodeBodyFor(kind, js)
	}
	return nil, errUnsupportedMediaType("application/json, application/yaml, application/vnd.kubernetes.protobuf, application/cbor")
}

// decodeBodyFor decodes the JSON object body of a write to kind, with the
// real server's message for malformed JSON. A well-formed body is read in
// one pass; only a malformed one is parsed again for the message.
func decodeBodyFor(kind string, data []byte) (map[string]any, error) {
	m, err := decodeObject(data)
	if err == nil || json.Valid(data) {
		return m, err
	}
	var v any
	err = json.Unmarshal(data, &v)
	snippet := string(data)
	if len(snippet) > 30 {
		snippet = snippet[:30] + " ..."
	}
	return nil, errBadRequest(fmt.Sprintf("the object provided is unrecognized (must be of type %s): couldn't get version/kind; json parse error: %v (%s)", kind, err, snippet))
}

// decodeObject decodes a JSON object body.
func decodeObject(data []byte) (map[string]any, error) {
	v, err := decodeJSON(data)
	if err != nil {
		return nil, errBadRequest("the body of the request could not be decoded: " + err.Error())
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, errBadRequest("the body of the request must be a JSON object")
	}
	return m, nil
}

func deepCopy(v any) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			out[k] = deepCopy(e)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = deepCopy(e)
		}
		return out
	default:
		return v
	}
}

func copyObj(m map[string]any) map[string]any { return deepCopy(m).(map[string]any) }

// sortedKeys is the keys of m in order.
func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }

func equalJSON(a, b any) bool { return reflect.DeepEqual(a, b) }

// getMap returns m[key] as an object, creating it when create is set.
func getMap(m map[string]any, key string, create bool) map[string]any {
	if v, ok := m[key].(map[string]any); ok {
		return v
	}
	if !create {
		return nil
	}
	v := map[string]any{}
	m[key] = v
	return v
}

func getString(m map[string]any, keys ...string) string {
	var cur any = m
	for _, k := range keys {
		mm, ok := cur.(map[string]any)
		if !ok {
			return ""
		}
		cur = mm[k]
	}
	s, _ := cur.(string)
	return s
}

func meta(obj map[string]any) map[string]any { return getMap(obj, "metadata", true) }

func stringMap(v any) map[string]string {
	m, _ := v.(map[string]any)
	out := make(map[string]string, len(m))
	for k, e := range m {
		if s, ok := e.(string); ok {
			out[k] = s
		}
	}
	return out
}

func nowRFC3339() string { return time.Now().UTC().Format(time.RFC3339) }

func newUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

const generateAlphabet = "bcdfghjklmnpqrstvwxz2456789"

func randomSuffix(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = generateAlphabet[int(b[i])%len(generateAlphabet)]
	}
	return string(b)
}

func encodeBase64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
