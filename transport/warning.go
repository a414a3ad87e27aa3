package transport

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
)

// MaxWarningsPerResponse is how many distinct warnings of one response are
// passed on; the rest are dropped and counted in one log record.
const MaxWarningsPerResponse = 32

// handleWarnings passes the distinct warnings of a response's Warning
// headers (the same code, agent and text counted once), at most
// MaxWarningsPerResponse of them, to the WarningHandler or, when there is
// none, logs them at Warn level to Config.Logger or, when that is nil too,
// to slog.Default(). When more distinct warnings came, one more Warn record
// says how many were dropped.
func (c *Client) handleWarnings(h http.Header) {
	vals := h.Values("Warning")
	if len(vals) == 0 {
		return
	}
	seen := map[Warning]bool{}
	dropped := 0
	for _, v := range vals {
		for _, w := range ParseWarnings(v) {
			if seen[w] {
				continue
			}
			if len(seen) >= MaxWarningsPerResponse {
				dropped++
				continue
			}
			seen[w] = true
			if c.warnings != nil {
				c.warnings(w)
				continue
			}
			c.warnLog.LogAttrs(context.Background(), slog.LevelWarn, "server warning",
				slog.Int("code", w.Code), slog.String("agent", w.Agent), slog.String("text", w.Text))
		}
	}
	if dropped > 0 {
		c.warnLog.LogAttrs(context.Background(), slog.LevelWarn, "server warnings dropped",
			slog.Int("dropped", dropped), slog.Int("limit", MaxWarningsPerResponse))
	}
}

// ParseWarnings parses one Warning header value (RFC 7234 section 5.5:
// `299 - "text"`, optionally followed by a quoted date, several warnings
// separated by commas). Malformed parts are skipped.
func ParseWarnings(v string) []Warning {
	var out []Warning
	s := v
	for {
		s = strings.TrimLeft(s, " \t,")
		if s == "" {
			return out
		}
		w, rest, ok := parseOneWarning(s)
		if ok {
			out = append(out, w)
		}
		s = rest
		if !ok {
			// Skip to the next comma outside quotes.
			s = skipToComma(s)
		}
	}
}

func parseOneWarning(s string) (Warning, string, bool) {
	var w Warning
	if len(s) < 4 || s[3] != ' ' {
		return w, s, false
	}
	for i := 0; i < 3; i++ {
		if s[i] < '0' || s[i] > '9' {
			return w, s, false
		}
		w.Code = w.Code*10 + int(s[i]-'0')
	}
	s = s[4:]
	sp := strings.IndexByte(s, ' ')
	if sp <= 0 {
		return w, s, false
	}
	w.Agent, s = s[:sp], s[sp+1:]
	text, rest, ok := unquote(s)
	if !ok {
		return w, s, false
	}
	w.Text = text
	rest = strings.TrimLeft(rest, " ")
	if strings.HasPrefix(rest, `"`) { // warn-date
		if _, r2, ok := unquote(rest); ok {
			rest = r2
		}
	}
	return w, rest, true
}

// unquote reads a quoted-string at the start of s.
func unquote(s string) (string, string, bool) {
	if !strings.HasPrefix(s, `"`) {
		return "", s, false
	}
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			if i+1 < len(s) {
				i++
				b.WriteByte(s[i])
			}
		case '"':
			return b.String(), s[i+1:], true
		default:
			b.WriteByte(s[i])
		}
	}
	return "", s, false
}

func skipToComma(s string) string {
	inQuote := false
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			inQuote = !inQuote
		case ',':
			if !inQuote {
				return s[i+1:]
			}
		}
	}
	return ""
}
