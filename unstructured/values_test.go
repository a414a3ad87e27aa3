package unstructured

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"
)

func TestIntOrString(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		raw   string
		str   bool
		want  string
		wrong bool
	}{
		{`8080`, false, "8080", false},
		{`-1`, false, "-1", false},
		{`2147483647`, false, "2147483647", false},
		{`2147483648`, false, "", true},
		{`1.0`, false, "", true},
		{`1e2`, false, "", true},
		{`"http"`, true, "http", false},
		{`"25%"`, true, "25%", false},
		{`"5"`, true, "5", false},
		{`null`, false, "0", false},
		{`true`, false, "", true},
		{`{}`, false, "", true},
	} {
		v, err := IntOrStringOf(gjson.Parse(tc.raw))
		if tc.wrong {
			assert.ErrorIs(t, err, ErrInvalidValue, tc.raw)
			continue
		}
		require.NoError(t, err, tc.raw)
		assert.Equal(t, tc.str, v.IsString(), tc.raw)
		assert.Equal(t, tc.want, v.String(), tc.raw)
	}
	v, err := IntOrStringOf(gjson.Get(`{"a":1}`, "missing"))
	require.NoError(t, err)
	assert.Equal(t, IntOrStringFromInt(0), v)

	var got struct{ A, B IntOrString }
	require.NoError(t, json.Unmarshal([]byte(`{"A":"25%","B":3}`), &got))
	assert.Equal(t, IntOrStringFromString("25%"), got.A)
	assert.Equal(t, int32(3), got.B.IntVal())
	assert.Equal(t, "25%", got.A.StrVal())
	out, err := json.Marshal(got)
	require.NoError(t, err)
	assert.Equal(t, `{"A":"25%","B":3}`, string(out))
	assert.Error(t, json.Unmarshal([]byte(`{"A":1.5}`), &got))
}

func TestIntOrStringScaledValue(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		v        IntOrString
		total    int
		up, down int
		wrong    bool
	}{
		{IntOrStringFromString("25%"), 10, 3, 2, false},
		{IntOrStringFromString("25%"), 4, 1, 1, false},
		{IntOrStringFromString("25%"), 1, 1, 0, false},
		{IntOrStringFromString("0%"), 10, 0, 0, false},
		{IntOrStringFromString("100%"), 7, 7, 7, false},
		{IntOrStringFromString("33%"), 100, 33, 33, false},
		{IntOrStringFromString("33%"), 101, 34, 33, false},
		{IntOrStringFromString("150%"), 3, 5, 4, false},
		{IntOrStringFromString("-10%"), 15, -1, -2, false},
		{IntOrStringFromInt(5), 100, 5, 5, false},
		{IntOrStringFromString("5"), 100, 0, 0, true},
		{IntOrStringFromString("5.5%"), 100, 0, 0, true},
		{IntOrStringFromString("%"), 100, 0, 0, true},
	} {
		up, err := tc.v.ScaledValue(tc.total, true)
		down, err2 := tc.v.ScaledValue(tc.total, false)
		if tc.wrong {
			assert.ErrorIs(t, err, ErrInvalidValue, tc.v.String())
			assert.ErrorIs(t, err2, ErrInvalidValue, tc.v.String())
			continue
		}
		require.NoError(t, err)
		require.NoError(t, err2)
		assert.Equal(t, tc.up, up, "%s of %d rounded up", tc.v, tc.total)
		assert.Equal(t, tc.down, down, "%s of %d rounded down", tc.v, tc.total)
	}
}

func TestResolveFenceposts(t *testing.T) {
	t.Parallel()
	pct := IntOrStringFromString
	for _, tc := range []struct {
		surge, unavailable IntOrString
		replicas           int32
		wantS, wantU       int32
	}{
		{pct("25%"), pct("25%"), 10, 3, 2},
		{pct("25%"), pct("25%"), 1, 1, 0},
		{pct("0%"), pct("25%"), 1, 0, 1}, // both 0: one may be unavailable
		{IntOrStringFromInt(0), IntOrStringFromInt(0), 5, 0, 1},
		{IntOrStringFromInt(2), pct("50%"), 5, 2, 2},
		{pct("100%"), IntOrStringFromInt(0), 3, 3, 0},
	} {
		s, u, err := ResolveFenceposts(tc.surge, tc.unavailable, tc.replicas)
		require.NoError(t, err)
		assert.Equal(t, [2]int32{tc.wantS, tc.wantU}, [2]int32{s, u}, "%s/%s of %d", tc.surge, tc.unavailable, tc.replicas)
	}
	_, _, err := ResolveFenceposts(pct("x"), pct("1%"), 3)
	assert.ErrorIs(t, err, ErrInvalidValue)
	assert.Contains(t, err.Error(), "maxSurge")
}

func TestDurations(t *testing.T) {
	t.Parallel()
	for raw, want := range map[string]time.Duration{
		`"1h30m"`: 90 * time.Minute, `"90s"`: 90 * time.Second, `"0"`: 0, `"-1.5h"`: -90 * time.Minute,
		`"300ms"`: 300 * time.Millisecond, `null`: 0,
	} {
		d, err := DurationOf(gjson.Parse(raw))
		require.NoError(t, err, raw)
		assert.Equal(t, want, d, raw)
	}
	for _, raw := range []string{`"1d"`, `""`, `5`, `"2562048h"`} {
		_, err := DurationOf(gjson.Parse(raw))
		assert.ErrorIs(t, err, ErrInvalidValue, raw)
	}
	assert.Equal(t, "1h30m0s", FormatDuration(90*time.Minute))
	assert.Equal(t, "0s", FormatDuration(0))
}

func TestTimes(t *testing.T) {
	t.Parallel()
	want := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	for raw, w := range map[string]time.Time{
		`"2026-11-28T10:00:00Z"`:        want,
		`"2026-11-28T12:00:00+02:00"`:   want,
		`"2026-11-28T10:00:00.5Z"`:      want.Add(500 * time.Millisecond),
		`null`:                          {},
		`"2026-11-28T10:00:00.123456Z"`: want.Add(123456 * time.Microsecond),
	} {
		got, err := TimeOf(gjson.Parse(raw))
		require.NoError(t, err, raw)
		assert.True(t, w.Equal(got), "%s: %v", raw, got)
		if !got.IsZero() {
			assert.Equal(t, time.UTC, got.Location())
		}
	}
	for _, raw := range []string{`"2026-11-28"`, `"2026-11-28T10:00:00"`, `1`, `"2026-13-01T00:00:00Z"`} {
		_, err := TimeOf(gjson.Parse(raw))
		assert.ErrorIs(t, err, ErrInvalidValue, raw)
	}
	micro, err := MicroTimeOf(gjson.Parse(`"2026-11-28T10:00:00.123456Z"`))
	require.NoError(t, err)
	assert.Equal(t, want.Add(123456*time.Microsecond), micro)
	for _, raw := range []string{`"2026-11-28T10:00:00Z"`, `"2026-11-28T10:00:00.123Z"`, `"2026-11-28T10:00:00.1234567Z"`} {
		_, err := MicroTimeOf(gjson.Parse(raw))
		assert.ErrorIs(t, err, ErrInvalidValue, raw)
	}
	local := time.Date(2026, 11, 28, 12, 0, 0, 999_999_999, time.FixedZone("x", 2*3600))
	assert.Equal(t, "2026-11-28T10:00:00Z", FormatTime(local), "the fraction is dropped, not rounded")
	assert.Equal(t, "2026-11-28T10:00:00.999999Z", FormatMicroTime(local))
	assert.Empty(t, FormatTime(time.Time{}))
	assert.Empty(t, FormatMicroTime(time.Time{}))
}

// FuzzValues: int-or-string, duration and time readers never panic, and
// what they read writes back to text that reads the same.
func FuzzValues(f *testing.F) {
	for _, s := range []string{`"25%"`, `8080`, `"1h30m"`, `"2026-11-28T10:00:00Z"`, `"2026-11-28T10:00:00.123456Z"`, `null`, `1.5`} {
		f.Add(s, 10)
	}
	f.Fuzz(func(t *testing.T, raw string, total int) {
		if !gjson.Valid(raw) {
			return
		}
		r := gjson.Parse(raw)
		if v, err := IntOrStringOf(r); err == nil {
			b, err := json.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			again, err := IntOrStringOf(gjson.ParseBytes(b))
			if err != nil || again != v {
				t.Fatalf("%s read back as %v (%v)", raw, again, err)
			}
			if total >= -1<<20 && total <= 1<<20 {
				_, _ = v.ScaledValue(total, total%2 == 0)
			}
		}
		if d, err := DurationOf(r); err == nil {
			again, err := time.ParseDuration(FormatDuration(d))
			if err != nil || again != d {
				t.Fatalf("%s read back as %v (%v)", raw, again, err)
			}
		}
		if tm, err := MicroTimeOf(r); err == nil && !tm.IsZero() && tm.Year() >= 0 && tm.Year() <= 9999 {
			again, err := MicroTimeOf(gjson.Parse(`"` + FormatMicroTime(tm) + `"`))
			if err != nil || !again.Equal(tm) {
				t.Fatalf("%s read back as %v (%v)", raw, again, err)
			}
		}
		if tm, err := TimeOf(r); err == nil && !tm.IsZero() && tm.Year() >= 0 && tm.Year() <= 9999 {
			again, err := TimeOf(gjson.Parse(`"` + FormatTime(tm) + `"`))
			if err != nil || !again.Equal(tm.Truncate(time.Second)) {
				t.Fatalf("%s read back as %v (%v)", raw, again, err)
			}
		}
	})
}
