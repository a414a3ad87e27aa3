package transport

import (
	"context"
	"log/slog"
)

// Warn passes w, a warning the program raises itself (such as resource's
// note that it dropped a field), the way the server's warnings go: to
// Config.WarningHandler when one is set, else as a Warn record to
// Config.Logger or slog.Default(). Give such warnings an Agent other than
// "-" so a handler can tell them from the server's. It is safe for
// concurrent use.
func (c *Client) Warn(ctx context.Context, w Warning) {
	if c.warnings != nil {
		c.warnings(w)
		return
	}
	c.warnLog.LogAttrs(ctx, slog.LevelWarn, "client warning",
		slog.Int("code", w.Code), slog.String("agent", w.Agent), slog.String("text", w.Text))
}
