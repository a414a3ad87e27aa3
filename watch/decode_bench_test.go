package watch_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/kubedyn/kubedyn/watch"
)

// watchStream returns n events of ConfigMaps of about 1.3 KB each (with
// managedFields, as the server sends them), as one watch stream.
func watchStream(n int) []byte {
	var b bytes.Buffer
	for i := range n {
		obj := map[string]any{
			"kind": "ConfigMap", "apiVersion": "v1",
			"metadata": map[string]any{
				"name": fmt.Sprintf("config-%05d", i), "namespace": "bench",
				"uid": fmt.Sprintf("4f1c2b3a-%04d-4e5f-8a9b-0c1d2e3f4a5b", i%10000), "resourceVersion": fmt.Sprint(100000 + i),
				"creationTimestamp": "2026-01-01T00:00:00Z",
				"labels":            map[string]any{"app": "bench", "tier": "backend", "index": fmt.Sprint(i)},
				"annotations":       map[string]any{"kubedyn.io/note": strings.Repeat("n", 200)},
				"managedFields": []any{map[string]any{"manager": "kubectl", "operation": "Update", "apiVersion": "v1",
					"time": "2026-01-01T00:00:00Z", "fieldsType": "FieldsV1",
					"fieldsV1": map[string]any{"f:data": map[string]any{".": map[string]any{}, "f:a": map[string]any{}, "f:b": map[string]any{}}}}},
			},
			"data": map[string]any{"a": strings.Repeat("x", 400), "b": strings.Repeat("y", 300)},
		}
		typ := []string{"ADDED", "MODIFIED", "DELETED"}[i%3]
		line, _ := json.Marshal(map[string]any{"type": typ, "object": obj})
		// The server writes type first, then object.
		line = append([]byte(`{"type":"`+typ+`","object":`), line[bytes.Index(line, []byte(`"object":`))+9:]...)
		line = bytes.TrimSuffix(line, []byte(`,"type":"`+typ+`"}`))
		line = append(line, '}', '\n')
		b.Write(line)
	}
	return b.Bytes()
}

// BenchmarkDecode decodes 2,000 ConfigMap events (about 3 MB), as the
// design's comparison with client-go does, and reports events per second
// and bytes allocated per event.
func BenchmarkDecode(b *testing.B) {
	const n = 2000
	stream := watchStream(n)
	b.SetBytes(int64(len(stream)))
	b.ReportAllocs()
	ctx := context.Background()
	for b.Loop() {
		got := 0
		for ev, err := range watch.Decode(ctx, io.NopCloser(bytes.NewReader(stream))) {
			if err != nil {
				b.Fatal(err)
			}
			if ev.Object.Name() == "" {
				b.Fatal("no name")
			}
			got++
		}
		if got != n {
			b.Fatalf("decoded %d events, want %d", got, n)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(len(stream))/n, "wire-B/event")
}

func TestWatchStreamIsValid(t *testing.T) {
	t.Parallel()
	n := 0
	for _, err := range watch.Decode(t.Context(), io.NopCloser(bytes.NewReader(watchStream(30)))) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 30 {
		t.Fatalf("decoded %d events", n)
	}
}

// FuzzDecode feeds arbitrary streams to Decode: it never panics, and every
// event it yields holds a valid object.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(addedA + bookmark))
	f.Add([]byte(`{"type":"ERROR","object":{"kind":"Status","code":410,"reason":"Expired"}}` + "\n"))
	f.Add([]byte("{\n\"type\": \"ADDED\",\n\"object\": {}\n}\n"))
	f.Add([]byte(addedA[:40]))
	f.Fuzz(func(t *testing.T, data []byte) {
		for ev, err := range watch.Decode(context.Background(), io.NopCloser(bytes.NewReader(data))) {
			if err != nil {
				return
			}
			switch ev.Type {
			case watch.Added, watch.Modified, watch.Deleted, watch.Bookmark:
			default:
				t.Fatalf("event of type %q", ev.Type)
			}
			if ev.Object.IsZero() || !json.Valid([]byte(ev.Object.String())) {
				t.Fatalf("invalid object %q", ev.Object.String())
			}
		}
	})
}
