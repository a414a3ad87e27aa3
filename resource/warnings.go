package resource

import (
	"context"
	"errors"
	"net/http"

	"github.com/kubedyn/kubedyn/transport"
)

// WarningAgent is the warn-agent of the warnings resource raises itself, such
// as the note that it dropped metadata.namespace from a cluster-scoped
// object. The server's warnings carry "-".
const WarningAgent = "kubedyn"

type warningKey struct{}

// WithWarningHandler returns a copy of ctx under which every call of this
// package passes each warning of its own to f: the server's Warning headers
// of the call's responses (errors included) and the warnings resource raises
// itself (Agent WarningAgent). It is how a caller learns which call a
// warning came from; the Client-wide route (transport.Config.WarningHandler,
// or the logger when there is none) receives the same warnings as well. f
// runs on the calling goroutine before the call returns; calls made
// concurrently with one ctx call f concurrently. A nil f returns ctx.
func WithWarningHandler(ctx context.Context, f func(transport.Warning)) context.Context {
	if f == nil {
		return ctx
	}
	return context.WithValue(ctx, warningKey{}, f)
}

// warningHandler returns the handler WithWarningHandler put in ctx, or nil.
func warningHandler(ctx context.Context) func(transport.Warning) {
	f, _ := ctx.Value(warningKey{}).(func(transport.Warning))
	return f
}

// do sends req through the transport and passes the warnings of the answer,
// an error's included, to the context's warning handler.
func (c *Client) do(ctx context.Context, req *transport.Request) (*transport.Response, error) {
	resp, err := c.tc.Do(ctx, req)
	if f := warningHandler(ctx); f != nil {
		var ae *transport.APIError
		switch {
		case resp != nil:
			passWarnings(f, resp.Header.Values("Warning"))
		case errors.As(err, &ae):
			passWarnings(f, ae.Header.Values("Warning"))
		}
	}
	return resp, err
}

// stream is do for a streamed response (a watch): the warnings come with
// its headers, before the body is read.
func (c *Client) stream(ctx context.Context, req *transport.Request) (*http.Response, error) {
	resp, err := c.tc.Stream(ctx, req)
	if f := warningHandler(ctx); f != nil {
		var ae *transport.APIError
		switch {
		case resp != nil:
			passWarnings(f, resp.Header.Values("Warning"))
		case errors.As(err, &ae):
			passWarnings(f, ae.Header.Values("Warning"))
		}
	}
	return resp, err
}

// passWarnings hands each distinct warning of the header values to f, at
// most transport.MaxWarningsPerResponse of them, as transport does.
func passWarnings(f func(transport.Warning), vals []string) {
	seen := map[transport.Warning]bool{}
	for _, v := range vals {
		for _, w := range transport.ParseWarnings(v) {
			if seen[w] || len(seen) >= transport.MaxWarningsPerResponse {
				continue
			}
			seen[w] = true
			f(w)
		}
	}
}

// warn raises a warning of resource's own: to the Client-wide route and to
// the context's handler.
func (c *Client) warn(ctx context.Context, text string) {
	w := transport.Warning{Code: 299, Agent: WarningAgent, Text: text}
	c.tc.Warn(ctx, w)
	if f := warningHandler(ctx); f != nil {
		f(w)
	}
}
