package transport

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

func BenchmarkDo(b *testing.B) {
	body := []byte(`{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"a","namespace":"default"}}`)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		_, _ = w.Write(body)
	}))
	b.Cleanup(srv.Close)
	c, err := New(&Config{Host: srv.URL, AllowPlainHTTPCredentials: true, BearerToken: "t", QPS: 1e9, Burst: 1 << 30})
	if err != nil {
		b.Fatal(err)
	}
	req := &Request{Path: JoinPath("api", "v1", "namespaces", "default", "configmaps", "a")}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Do(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeAPIError(b *testing.B) {
	body := []byte(`{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"pods \"x\" not found","reason":"NotFound","details":{"name":"x","kind":"pods"},"code":404}`)
	b.ReportAllocs()
	for b.Loop() {
		if e := decodeAPIError(404, nil, body); e.Reason != "NotFound" {
			b.Fatal(e.Reason)
		}
	}
}
