package unstructured

import (
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"
)

// quantityCanonical pairs quantity text with what the API server writes
// back for it. internal/e2e checks the same kind of table against the
// real server.
var quantityCanonical = []struct {
	in, want string
	format   QuantityFormat
}{
	// Decimal SI: the largest suffix that keeps the value whole.
	{".", "0", DecimalSI},
	{"Ki", "0", BinarySI}, // no digits at all: zero, as on the server
	{"2000m", "2", DecimalSI},
	{"1000m", "1", DecimalSI},
	{"1001m", "1001m", DecimalSI},
	{"1.5", "1500m", DecimalSI},
	{"0.5", "500m", DecimalSI},
	{"1.0", "1", DecimalSI},
	{"1.000", "1", DecimalSI},
	{"1000", "1k", DecimalSI},
	{"1000k", "1M", DecimalSI},
	{"1500k", "1500k", DecimalSI},
	{"1.5k", "1500", DecimalSI},
	{"0.1m", "100u", DecimalSI}, // finer than milli is kept, not rounded to 1m
	{"0.5n", "1n", DecimalSI},   // finer than nano rounds up
	{"1e-1000", "1e-9", DecimalExponent},
	{"0.000000001", "1n", DecimalSI},
	{"-0.5n", "-1n", DecimalSI}, // away from zero
	{"10E", "10E", DecimalSI},
	{"1000E", "1", DecimalSI}, // beyond E the server writes no suffix
	{"100000E", "100", DecimalSI},
	{"9223372036854775808", "9223372036854775808", DecimalSI}, // decimal is not capped
	{"12345678901234567890123", "12345678901234567890123", DecimalSI},
	{"0k", "0", DecimalSI},
	{"-0", "0", DecimalSI},
	// Text already canonical by the server's loose tests is written back as given.
	{"1.500", "1.500", DecimalSI},
	{"+1k", "+1k", DecimalSI},
	{"012", "012", DecimalSI},
	{"1.", "1.", DecimalSI},
	{"-1k", "-1k", DecimalSI},
	{".", "0", DecimalSI},
	{"Ki", "0", BinarySI}, // no digits at all: zero, as on the server
	{".", "0", DecimalSI},
	{"Ki", "0", BinarySI}, // no digits at all: zero, as on the server
	// Binary SI.
	{"1Ki", "1Ki", BinarySI},
	{"8Ki", "8Ki", BinarySI},
	{"1024Ki", "1Mi", BinarySI},
	{"1025Ki", "1025Ki", BinarySI},
	{"1.5Gi", "1536Mi", BinarySI},
	{"1.5Mi", "1536Ki", BinarySI},
	{"0.25Mi", "256Ki", BinarySI},
	{"0.5Ki", "512", BinarySI}, // below 1024: decimal
	{"0.0000001Ki", "102400n", DecimalSI},
	{"1.Gi", "1.Gi", BinarySI},
	{"-1Ki", "-1Ki", BinarySI},
	{"-1.5Ki", "-1536", BinarySI},
	{"1Ei", "1Ei", BinarySI},
	{"8Ei", "9223372036854775807", BinarySI}, // binary is capped at 2^63-1
	{"1024Ei", "9223372036854775807", BinarySI},
	{"100Ti", "100Ti", BinarySI},
	{"1.1Ki", "1126400m", BinarySI}, // not whole: decimal
	// Decimal exponent.
	{"1e3", "1e3", DecimalExponent},
	{"1E3", "1E3", DecimalExponent},
	{"1e+3", "1e+3", DecimalExponent},
	{"1e03", "1e03", DecimalExponent},
	{"5e-1", "500e-3", DecimalExponent},
	{"1.5e20", "150e18", DecimalExponent},
	{"1e1000", "10e999", DecimalExponent},
	{"12e6", "12e6", DecimalExponent},
	{"1200e3", "1200e3", DecimalExponent},
	{"1000e3", "1e6", DecimalExponent},
	{".e-9", "0", DecimalExponent},
}

func TestQuantityCanonical(t *testing.T) {
	t.Parallel()
	for _, tc := range quantityCanonical {
		t.Run(tc.in, func(t *testing.T) {
			t.Parallel()
			q, err := ParseQuantity(tc.in)
			require.NoError(t, err)
			assert.Equal(t, tc.want, q.String())
			if !q.IsZero() {
				assert.Equal(t, tc.format, q.Format())
			}
			b, err := json.Marshal(q)
			require.NoError(t, err)
			assert.Equal(t, `"`+tc.want+`"`, string(b))
			again, err := ParseQuantity(q.String())
			require.NoError(t, err)
			assert.Equal(t, tc.want, again.String(), "canonical text is stable")
		})
	}
}

func TestQuantityErrors(t *testing.T) {
	t.Parallel()
	for _, in := range []string{
		"", " 1", "1 ", "1.5.5", "1Kb", "1kK", "1e", "1e+", "1.e-10x", "abc", "1m3", "--1", "1i", "1K",
		".e-10",                  // no digit where the server needs one
		"1e99999999999999999999", // the exponent does not fit
		"1e1001", "1e-1001",      // beyond MaxQuantityExponent
		strings.Repeat("1", MaxQuantityLength+1),
	} {
		_, err := ParseQuantity(in)
		assert.ErrorIs(t, err, ErrInvalidValue, "%q", in)
	}
}

func TestQuantityArithmetic(t *testing.T) {
	t.Parallel()
	q := MustParseQuantity
	tests := []struct {
		a, b       string
		sum, diff  string
		cmp        int
		sumFormat  QuantityFormat
		diffFormat QuantityFormat
	}{
		{"1", "500m", "1500m", "500m", 1, DecimalSI, DecimalSI},
		{"1Gi", "512Mi", "1536Mi", "512Mi", 1, BinarySI, BinarySI},
		{"1Ki", "1024", "2Ki", "0", 0, BinarySI, BinarySI},
		{"0", "1Mi", "1Mi", "-1Mi", -1, BinarySI, BinarySI}, // a zero takes the other's format
		{"1e3", "1k", "2e3", "0", 0, DecimalExponent, DecimalExponent},
		{"9223372036854775807", "1", "9223372036854775808", "9223372036854775806", 1, DecimalSI, DecimalSI},
		{"-9223372036854775807", "2", "-9223372036854775805", "-9223372036854775809", -1, DecimalSI, DecimalSI},
		{"1n", "1E", "1000000000000000000000000001n", "-999999999999999999999999999n", -1, DecimalSI, DecimalSI},
		{"100m", "0.1", "200m", "0", 0, DecimalSI, DecimalSI},
	}
	for _, tc := range tests {
		a, b := q(tc.a), q(tc.b)
		sum, diff := a.Add(b), a.Sub(b)
		assert.Equal(t, tc.sum, sum.String(), "%s + %s", tc.a, tc.b)
		assert.Equal(t, tc.diff, diff.String(), "%s - %s", tc.a, tc.b)
		assert.Equal(t, tc.sumFormat, sum.Format(), "%s + %s", tc.a, tc.b)
		assert.Equal(t, tc.diffFormat, diff.Format(), "%s - %s", tc.a, tc.b)
		assert.Equal(t, tc.cmp, a.Cmp(b), "%s cmp %s", tc.a, tc.b)
		assert.Equal(t, -tc.cmp, b.Cmp(a), "%s cmp %s", tc.b, tc.a)
		assert.Equal(t, tc.a, a.String(), "operands are not modified")
	}
	assert.True(t, q("1Gi").Equal(q("1073741824")))
	assert.Equal(t, "-1536Mi", q("1.5Gi").Neg().String())
	assert.Equal(t, 1, q("1").Sign())
	assert.Equal(t, -1, q("-1m").Sign())
	assert.Equal(t, 0, Quantity{}.Sign())
	assert.Equal(t, "0", Quantity{}.String())
	assert.Equal(t, "1500m", NewMilliQuantity(1500, DecimalSI).String())
	assert.Equal(t, "1Ki", NewQuantity(1024, BinarySI).String())
	assert.Equal(t, "512", NewQuantity(512, BinarySI).String())
}

// RoundUp(-3) is what the server's defaulting does to every ResourceList
// value (internal/e2e checks the same forms against it).
func TestQuantityRoundUp(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in, milli string
		exact     bool
	}{
		{"0.1m", "1m", false},
		{"100u", "1m", false},
		{"999999999n", "1", false},
		{"1n", "1m", false},
		{"-1n", "-1m", false},
		{"1e-1000", "1e-3", false},
		{"3e-9", "1e-3", false},
		{"0.0000001Ki", "1m", false},
		{"1.000001", "1001m", false},
		{"1.500000", "1500m", true},
		{"1.500", "1.500", true},
		{"+1k", "+1k", true},
		{"2000m", "2", true},
		{"1.5Gi", "1536Mi", true},
		{"0", "0", true},
	} {
		r, exact := MustParseQuantity(tc.in).RoundUp(-3)
		assert.Equal(t, tc.milli, r.String(), tc.in)
		assert.Equal(t, tc.exact, exact, tc.in)
	}
	r, exact := MustParseQuantity("1500m").RoundUp(0)
	assert.Equal(t, "2", r.String())
	assert.False(t, exact)
}

func TestQuantityValues(t *testing.T) {
	t.Parallel()
	q := MustParseQuantity
	for _, tc := range []struct {
		in           string
		value, milli int64
	}{
		{"1500m", 2, 1500},
		{"1.5", 2, 1500},
		{"1n", 1, 1},
		{"-1n", -1, -1},
		{"-1500m", -2, -1500},
		{"1Gi", 1 << 30, 1 << 30 * 1000},
		{"0", 0, 0},
		{"100E", math.MaxInt64, math.MaxInt64},
		{"-100E", math.MinInt64, math.MinInt64},
	} {
		assert.Equal(t, tc.value, q(tc.in).Value(), "%s value", tc.in)
		assert.Equal(t, tc.milli, q(tc.in).MilliValue(), "%s milli", tc.in)
	}
	v, ok := q("1Ei").ScaledValue(0)
	assert.True(t, ok)
	assert.Equal(t, int64(1<<60), v)
	_, ok = q("1Ei").ScaledValue(-3)
	assert.False(t, ok)
	v, ok = q("1500M").ScaledValue(9)
	assert.True(t, ok)
	assert.Equal(t, int64(2), v)
	assert.InDelta(t, 1.5, q("1500m").Float64(), 1e-12)
	assert.InDelta(t, 1.5*(1<<30), q("1.5Gi").Float64(), 1)
}

func TestQuantityJSON(t *testing.T) {
	t.Parallel()
	obj := MustParse(`{"spec":{"hard":{"cpu":"2000m","memory":" 1.5Gi ","pods":10,"frac":1.5,"exp":1e3,"none":null,"bad":"1 Gi","obj":{},"esc":"\u0031"}}}`)
	for path, want := range map[string]string{"cpu": "2", "memory": "1536Mi", "pods": "10", "frac": "1500m", "exp": "1e3", "none": "0", "absent": "0"} {
		q, err := QuantityOf(obj.Get("spec.hard." + path))
		require.NoError(t, err, path)
		assert.Equal(t, want, q.String(), path)
	}
	for _, path := range []string{"bad", "obj", "esc"} {
		_, err := QuantityOf(obj.Get("spec.hard." + path))
		assert.ErrorIs(t, err, ErrInvalidValue, path)
	}
	var got struct {
		A Quantity `json:"a"`
		B Quantity `json:"b"`
		C Quantity `json:"c"`
	}
	require.NoError(t, json.Unmarshal([]byte(`{"a":"1.5Gi","b":2.5,"c":null}`), &got))
	assert.Equal(t, "1536Mi", got.A.String())
	assert.Equal(t, "2500m", got.B.String())
	assert.True(t, got.C.IsZero())
	out, err := json.Marshal(got)
	require.NoError(t, err)
	assert.Equal(t, `{"a":"1536Mi","b":"2500m","c":"0"}`, string(out))
	assert.Error(t, json.Unmarshal([]byte(`{"a":"1.5Gb"}`), &got))

	// Written with Set, a Quantity is its canonical string.
	o, err := New("v1", "ResourceQuota").Set("spec.hard.cpu", MustParseQuantity("1500m"))
	require.NoError(t, err)
	assert.Equal(t, "1500m", o.Get("spec.hard.cpu").Str)
}

// FuzzQuantity: parsing never panics, canonical text is stable, reads back
// as the same value (unless it lies beyond the largest decimal suffix,
// where the server itself loses it), and arithmetic is exact.
func FuzzQuantity(f *testing.F) {
	for _, tc := range quantityCanonical {
		f.Add(tc.in, "1")
	}
	f.Add("1.5Gi", "-0.5n")
	f.Add("9223372036854775807", "9223372036854775807")
	f.Fuzz(func(t *testing.T, a, b string) {
		qa, err := ParseQuantity(a)
		if err != nil {
			if !strings.Contains(err.Error(), "quantity") {
				t.Fatalf("error does not say what it is about: %v", err)
			}
			return
		}
		s := qa.String()
		again, err := ParseQuantity(s)
		if err != nil {
			t.Fatalf("%q wrote %q, which does not parse: %v", a, s, err)
		}
		if again.String() != s {
			t.Fatalf("%q wrote %q, which writes %q", a, s, again.String())
		}
		lost := qa.Format() == DecimalSI && (qa.Cmp(MustParseQuantity("1000E")) >= 0 || qa.Cmp(MustParseQuantity("-1000E")) <= 0)
		if !lost && !again.Equal(qa) {
			t.Fatalf("%q wrote %q, a different value", a, s)
		}
		if !gjson.Valid(string(mustMarshal(t, qa))) {
			t.Fatalf("%q: invalid JSON", a)
		}
		qb, err := ParseQuantity(b)
		if err != nil {
			return
		}
		if qa.Add(qb).Sub(qb).Cmp(qa) != 0 {
			t.Fatalf("%q + %q - %q is not %q", a, b, b, a)
		}
		if qa.Cmp(qb) != -qb.Cmp(qa) {
			t.Fatalf("Cmp(%q, %q) is not antisymmetric", a, b)
		}
		if qa.Add(qb).Cmp(qb.Add(qa)) != 0 {
			t.Fatalf("%q + %q does not commute", a, b)
		}
	})
}

func mustMarshal(t *testing.T, v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
