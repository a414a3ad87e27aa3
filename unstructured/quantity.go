package unstructured

import (
	"bytes"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"

	"github.com/tidwall/gjson"
)

// QuantityFormat is the suffix family a Quantity is written in. The API
// server remembers it from the text it parsed and writes the canonical
// form in the same family.
type QuantityFormat uint8

const (
	// DecimalSI: a power of ten as a suffix: n u m "" k M G T P E ("1500m", "2k").
	DecimalSI QuantityFormat = iota
	// BinarySI: a power of 1024 as a suffix: Ki Mi Gi Ti Pi Ei ("1536Mi").
	BinarySI
	// DecimalExponent: a decimal exponent ("12e6").
	DecimalExponent
)

// String returns "DecimalSI", "BinarySI" or "DecimalExponent".
func (f QuantityFormat) String() string {
	switch f {
	case BinarySI:
		return "BinarySI"
	case DecimalExponent:
		return "DecimalExponent"
	default:
		return "DecimalSI"
	}
}

// Limits on quantity text that the API server does not have: beyond them
// its own arithmetic grows without bound, and no field of any Kubernetes
// type can hold such values.
const (
	// MaxQuantityLength caps the length of the text ParseQuantity accepts.
	MaxQuantityLength = 256
	// MaxQuantityExponent caps decimal exponents and values: "1e-1000"
	// and "9e1000" are accepted, "1e1001" and "10e1000" are not.
	MaxQuantityExponent = 1000
)

// Quantity is a Kubernetes resource quantity ("500m", "1.5Gi", "2e3")
// held exactly: a decimal value, never a float, with the suffix family it
// was written in. ParseQuantity follows the API server's parser
// (k8s.io/apimachinery's resource.ParseQuantity) rule for rule, including
// its rounding of values finer than 1n up to the next nano, and String
// writes what the server writes back: "2000m" reads back as "2", "1.5Gi"
// as "1536Mi", "0.5Ki" as "512".
//
// One more rule applies to values of a core/v1 ResourceList (container
// requests and limits, quotas, limit ranges): the server's defaulting
// rounds them up to milli, which RoundUp(-3) reproduces.
//
// Quantities are immutable values, safe for concurrent use and to copy;
// arithmetic returns a new Quantity. The zero Quantity is 0 (DecimalSI).
type Quantity struct {
	m   int64    // the mantissa, when b is nil
	b   *big.Int // the mantissa when it does not fit an int64; never modified
	exp int32    // the value is mantissa × 10^exp
	f   QuantityFormat
	// s is the text the server writes back as it was given: it keeps the
	// text of a parsed quantity that is already in canonical form by its
	// rules (they keep "+1k" and "1.500" too).
	s string
}

func quantityError(s, why string) error {
	if len(s) > 64 {
		s = s[:64] + "..."
	}
	return fmt.Errorf("quantity %q: %s: %w", s, why, ErrInvalidValue)
}

// ParseQuantity parses a quantity as the API server does:
//
//	<quantity>     ::= <sign>? <number> <suffix>
//	<number>       ::= <digits> | <digits> "." <digits>? | "." <digits>
//	<suffix>       ::= "" | n | u | m | k | M | G | T | P | E      (decimal SI)
//	                 | Ki | Mi | Gi | Ti | Pi | Ei                 (binary SI)
//	                 | (e | E) <sign>? <digits>                     (decimal exponent)
//
// Values are exact. A non-zero value finer than 1n is rounded up (away
// from zero) to the next nano; a binary value beyond 2^63-1 in magnitude
// is capped there; a binary value below 1 in magnitude is written in
// decimal SI. Like the server, it accepts a lone sign or "." as zero.
// Unlike it, it refuses text longer than MaxQuantityLength, and exponents
// and values beyond MaxQuantityExponent (the server's own arithmetic would
// not end on those). Errors wrap ErrInvalidValue.
func ParseQuantity(str string) (Quantity, error) {
	if str == "" {
		return Quantity{}, quantityError(str, "empty")
	}
	if len(str) > MaxQuantityLength {
		return Quantity{}, quantityError(str, fmt.Sprintf("longer than %d bytes", MaxQuantityLength))
	}
	if str == "0" {
		return Quantity{s: str}, nil
	}
	p, err := splitQuantity(str)
	if err != nil {
		return Quantity{}, err
	}
	base, exponent, format, ok := quantitySuffix(p.suffix)
	if !ok {
		return Quantity{}, quantityError(str, fmt.Sprintf("unknown suffix %q", p.suffix))
	}
	if base == 10 && (exponent > MaxQuantityExponent || exponent < -MaxQuantityExponent ||
		p.num != "0" && exponent+int64(len(p.num))-1 > MaxQuantityExponent) {
		return Quantity{}, quantityError(str, fmt.Sprintf("exponent beyond ±%d", MaxQuantityExponent))
	}

	// The server's fast path: few enough digits for an int64, and no
	// finer than nano. Its results are exact and never capped.
	precision, scale, mult := -1, int(exponent), int64(1)
	switch format {
	case DecimalSI, DecimalExponent:
		precision = 18 - len(p.num) - len(p.denom)
	case BinarySI:
		scale = 0
		if len(p.denom) == 0 {
			mult = 1 << exponent
			precision = 15 - len(p.num) - int(float32(exponent)*3/10) - 1
		}
	}
	if precision >= 0 {
		scale -= len(p.denom)
		if scale >= -9 {
			shifted := p.num + p.denom
			v, err := strconv.ParseInt(shifted, 10, 64)
			if err != nil {
				return Quantity{}, quantityError(str, "bad number")
			}
			if r, ok := mulInt64(v, mult); ok {
				if !p.positive {
					r = -r
				}
				q := Quantity{m: r, exp: int32(scale), f: format}
				// The server keeps the text when it is already canonical by
				// these (loose) tests.
				switch format {
				case BinarySI:
					if v&7 != 0 {
						q.s = str
					}
				default:
					if scale%3 == 0 && !strings.HasSuffix(shifted, "000") && shifted[0] != '0' {
						q.s = str
					}
				}
				return q, nil
			}
		}
	}

	// The exact path for everything else.
	if !p.digits {
		return Quantity{}, quantityError(str, "no digits")
	}
	m, ok := new(big.Int).SetString(p.num+p.denom, 10)
	if !ok {
		return Quantity{}, quantityError(str, "bad number")
	}
	exp := -len(p.denom)
	if base == 10 {
		exp += int(exponent)
	} else {
		m.Lsh(m, uint(exponent))
	}
	// Round a non-zero value up to nano, away from zero.
	if exp < -9 && m.Sign() != 0 {
		m = divRoundUp(m, pow10(-9-exp))
		exp = -9
	}
	if format == BinarySI {
		if cmpDec(m, int32(exp), maxInt64Big, 0) > 0 {
			m, exp = new(big.Int).Set(maxInt64Big), 0
		}
		if m.Sign() > 0 && cmpDec(m, int32(exp), big.NewInt(1), 0) < 0 {
			format = DecimalSI
		}
	}
	if !p.positive {
		m.Neg(m)
	}
	return newQuantity(m, int32(exp), format), nil
}

// MustParseQuantity is ParseQuantity that panics on error, for literals.
func MustParseQuantity(s string) Quantity {
	q, err := ParseQuantity(s)
	if err != nil {
		panic(err)
	}
	return q
}

// NewQuantity returns value in the given format ("1Ki" for 1024 in
// BinarySI).
func NewQuantity(value int64, format QuantityFormat) Quantity {
	return Quantity{m: value, f: format}
}

// NewMilliQuantity returns value/1000 in the given format
// (NewMilliQuantity(1500, DecimalSI) is "1500m").
func NewMilliQuantity(milli int64, format QuantityFormat) Quantity {
	return Quantity{m: milli, exp: -3, f: format}
}

// QuantityOf reads a quantity field: a JSON string holding a quantity (its
// raw text, spaces around it trimmed, as the server reads it) or a JSON
// number. A null or absent field is the zero Quantity. Errors wrap
// ErrInvalidValue.
func QuantityOf(r gjson.Result) (Quantity, error) {
	switch r.Type {
	case gjson.Null:
		return Quantity{}, nil
	case gjson.String:
		return ParseQuantity(strings.TrimSpace(r.Raw[1 : len(r.Raw)-1]))
	case gjson.Number:
		return ParseQuantity(strings.TrimSpace(r.Raw))
	}
	return Quantity{}, quantityError(r.Raw, "not a string or a number")
}

// MarshalJSON writes the quantity as a JSON string, as String returns it.
func (q Quantity) MarshalJSON() ([]byte, error) {
	return strconv.AppendQuote(nil, q.String()), nil
}

// UnmarshalJSON reads a JSON string or number as the API server does: the
// text between the quotes, spaces trimmed (escapes are not decoded); null
// is the zero Quantity.
func (q *Quantity) UnmarshalJSON(data []byte) error {
	if string(data) == "null" {
		*q = Quantity{}
		return nil
	}
	if len(data) >= 2 && data[0] == '"' && data[len(data)-1] == '"' {
		data = data[1 : len(data)-1]
	}
	p, err := ParseQuantity(string(bytes.TrimSpace(data)))
	if err != nil {
		return err
	}
	*q = p
	return nil
}

// quantityParts is quantity text split up.
type quantityParts struct {
	positive   bool
	num, denom string // digits before and after the point; num without leading zeros, "0" when empty
	digits     bool   // whether any digit came before the suffix
	suffix     string
}

// splitQuantity splits str as the server's scanner does: a sign, digits,
// an optional point and digits, then suffix letters, an optional sign and
// digits. Anything else is refused.
func splitQuantity(str string) (quantityParts, error) {
	p := quantityParts{positive: true}
	i := 0
	if i < len(str) && (str[i] == '-' || str[i] == '+') {
		p.positive = str[i] == '+'
		i++
	}
	start := i
	for i < len(str) && str[i] == '0' {
		i++
	}
	numStart := i
	for i < len(str) && isDigit(str[i]) {
		i++
	}
	p.num = str[numStart:i]
	if p.num == "" {
		p.num = "0"
	}
	if i < len(str) && str[i] == '.' {
		i++
		d := i
		for i < len(str) && isDigit(str[i]) {
			i++
		}
		p.denom = str[d:i]
	}
	for _, c := range []byte(str[start:i]) {
		if isDigit(c) {
			p.digits = true
			break
		}
	}
	suffixStart := i
	for i < len(str) && strings.IndexByte("eEinumkKMGTP", str[i]) >= 0 {
		i++
	}
	if i < len(str) && (str[i] == '-' || str[i] == '+') {
		i++
	}
	for i < len(str) && isDigit(str[i]) {
		i++
	}
	if i != len(str) {
		return p, quantityError(str, fmt.Sprintf("unexpected %q", str[i]))
	}
	p.suffix = str[suffixStart:]
	return p, nil
}

// quantitySuffix interprets a suffix: its base (10 or 2), exponent and
// format.
func quantitySuffix(s string) (base int, exponent int64, format QuantityFormat, ok bool) {
	switch s {
	case "":
		return 10, 0, DecimalSI, true
	case "n":
		return 10, -9, DecimalSI, true
	case "u":
		return 10, -6, DecimalSI, true
	case "m":
		return 10, -3, DecimalSI, true
	case "k":
		return 10, 3, DecimalSI, true
	case "M":
		return 10, 6, DecimalSI, true
	case "G":
		return 10, 9, DecimalSI, true
	case "T":
		return 10, 12, DecimalSI, true
	case "P":
		return 10, 15, DecimalSI, true
	case "E":
		return 10, 18, DecimalSI, true
	case "Ki":
		return 2, 10, BinarySI, true
	case "Mi":
		return 2, 20, BinarySI, true
	case "Gi":
		return 2, 30, BinarySI, true
	case "Ti":
		return 2, 40, BinarySI, true
	case "Pi":
		return 2, 50, BinarySI, true
	case "Ei":
		return 2, 60, BinarySI, true
	}
	if len(s) > 1 && (s[0] == 'e' || s[0] == 'E') {
		e, err := strconv.ParseInt(s[1:], 10, 64)
		if err != nil {
			return 0, 0, DecimalExponent, false
		}
		return 10, e, DecimalExponent, true
	}
	return 0, 0, DecimalSI, false
}

var maxInt64Big = big.NewInt(math.MaxInt64)

// newQuantity returns m × 10^exp, holding m in an int64 when it fits.
func newQuantity(m *big.Int, exp int32, f QuantityFormat) Quantity {
	if m.IsInt64() {
		return Quantity{m: m.Int64(), exp: exp, f: f}
	}
	return Quantity{b: m, exp: exp, f: f}
}

// mant returns the mantissa as a new big.Int the caller may modify.
func (q Quantity) mant() *big.Int {
	if q.b != nil {
		return new(big.Int).Set(q.b)
	}
	return big.NewInt(q.m)
}

func pow10(n int) *big.Int { return new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n)), nil) }

// divRoundUp returns m/d rounded away from zero (d > 0).
func divRoundUp(m, d *big.Int) *big.Int {
	q, r := new(big.Int).QuoRem(m, d, new(big.Int))
	if r.Sign() > 0 {
		q.Add(q, big.NewInt(1))
	} else if r.Sign() < 0 {
		q.Sub(q, big.NewInt(1))
	}
	return q
}

// align returns the mantissas of a×10^ea and b×10^eb at their smaller
// exponent, and that exponent.
func align(a *big.Int, ea int32, b *big.Int, eb int32) (*big.Int, *big.Int, int32) {
	switch {
	case ea > eb:
		a = new(big.Int).Mul(a, pow10(int(ea-eb)))
		ea = eb
	case eb > ea:
		b = new(big.Int).Mul(b, pow10(int(eb-ea)))
	}
	return a, b, ea
}

// cmpDec compares a×10^ea with b×10^eb.
func cmpDec(a *big.Int, ea int32, b *big.Int, eb int32) int {
	a, b, _ = align(a, ea, b, eb)
	return a.Cmp(b)
}

func mulInt64(a, b int64) (int64, bool) {
	if a == 0 || b == 0 || a == 1 || b == 1 {
		return a * b, true
	}
	if a == math.MinInt64 || b == math.MinInt64 {
		return 0, false
	}
	c := a * b
	return c, c/b == a
}

// Format returns the suffix family the quantity is written in.
func (q Quantity) Format() QuantityFormat { return q.f }

// IsZero reports whether the quantity is 0.
func (q Quantity) IsZero() bool { return q.b == nil && q.m == 0 }

// Sign returns -1, 0 or +1.
func (q Quantity) Sign() int {
	if q.b != nil {
		return q.b.Sign()
	}
	switch {
	case q.m < 0:
		return -1
	case q.m > 0:
		return 1
	}
	return 0
}

// Cmp returns -1, 0 or +1 as q is less than, equal to or greater than y.
// Formats do not matter: "1Ki" equals "1024".
func (q Quantity) Cmp(y Quantity) int {
	if q.b == nil && y.b == nil && q.exp == y.exp {
		switch {
		case q.m < y.m:
			return -1
		case q.m > y.m:
			return 1
		}
		return 0
	}
	return cmpDec(q.mant(), q.exp, y.mant(), y.exp)
}

// Equal reports whether q and y have the same value.
func (q Quantity) Equal(y Quantity) bool { return q.Cmp(y) == 0 }

// Add returns q + y, exactly. The result keeps q's format, or takes y's
// when q is zero, as the server's Add does.
func (q Quantity) Add(y Quantity) Quantity {
	f := q.f
	if q.IsZero() {
		f = y.f
	}
	if q.b == nil && y.b == nil && q.exp == y.exp {
		if s, ok := addInt64(q.m, y.m); ok {
			return Quantity{m: s, exp: q.exp, f: f}
		}
	}
	a, b, exp := align(q.mant(), q.exp, y.mant(), y.exp)
	return newQuantity(a.Add(a, b), exp, f)
}

// Sub returns q - y, exactly, with Add's rule for the format.
func (q Quantity) Sub(y Quantity) Quantity { return q.Add(y.Neg()) }

// Neg returns -q in q's format.
func (q Quantity) Neg() Quantity {
	if q.b != nil || q.m == math.MinInt64 {
		return newQuantity(q.mant().Neg(q.mant()), q.exp, q.f)
	}
	return Quantity{m: -q.m, exp: q.exp, f: q.f}
}

func addInt64(a, b int64) (int64, bool) {
	c := a + b
	if (a > 0 && b > 0 && c < 0) || (a < 0 && b < 0 && c >= 0) {
		return 0, false
	}
	return c, true
}

// ScaledValue returns q / 10^scale rounded up, away from zero, as an
// int64 (ScaledValue(-3) is the value in thousandths). ok is false when
// the result does not fit: it is then the nearest int64.
func (q Quantity) ScaledValue(scale int) (v int64, ok bool) {
	m := q.mant()
	shift := int(q.exp) - scale
	switch {
	case shift > 0:
		m.Mul(m, pow10(shift))
	case shift < 0:
		m = divRoundUp(m, pow10(-shift))
	}
	if !m.IsInt64() {
		if m.Sign() < 0 {
			return math.MinInt64, false
		}
		return math.MaxInt64, false
	}
	return m.Int64(), true
}

// RoundUp returns q rounded up, away from zero, to a multiple of
// 10^scale, and whether that kept its value; the text is kept when
// nothing needed rounding. The server applies RoundUp(-3) to every value
// of a core/v1 ResourceList (a container's requests and limits, a
// ResourceQuota's hard, a LimitRange, a PersistentVolumeClaim's
// resources, a Pod's overhead...), so "100u" there comes back as "1m";
// other quantity fields (emptyDir.sizeLimit) keep nano precision.
func (q Quantity) RoundUp(scale int) (Quantity, bool) {
	if int(q.exp) >= scale {
		return q, true
	}
	d := pow10(scale - int(q.exp))
	r := divRoundUp(q.mant(), d)
	exact := new(big.Int).Mul(r, d).Cmp(q.mant()) == 0
	return newQuantity(r, int32(scale), q.f), exact
}

// Value returns the value rounded up to an integer, away from zero
// ("1500m" is 2), saturating at the int64 bounds.
func (q Quantity) Value() int64 {
	v, _ := q.ScaledValue(0)
	return v
}

// MilliValue returns the value in thousandths, rounded up away from zero
// ("1.5" is 1500, "1n" is 1), saturating at the int64 bounds.
func (q Quantity) MilliValue() int64 {
	v, _ := q.ScaledValue(-3)
	return v
}

// Float64 returns the nearest float64, for display and ratios; never
// compare or add quantities through it.
func (q Quantity) Float64() float64 {
	var digits string
	if q.b != nil {
		digits = q.b.String()
	} else {
		digits = strconv.FormatInt(q.m, 10)
	}
	f, _ := strconv.ParseFloat(digits+"e"+strconv.Itoa(int(q.exp)), 64)
	return f
}

// String returns the quantity as the API server writes it back: the text
// it was parsed from when that is already canonical by the server's
// tests, else the canonical form: no fraction, the largest suffix of the
// quantity's family that keeps the value exact ("1500m", "1536Mi",
// "12e6"), a binary value below 1024 in magnitude or not whole in
// decimal SI, and "0" for zero.
func (q Quantity) String() string {
	if q.s != "" {
		return q.s
	}
	return string(q.appendCanonical(nil))
}

func (q Quantity) appendCanonical(b []byte) []byte {
	if q.IsZero() {
		return append(b, '0')
	}
	format := q.f
	if format == BinarySI {
		if q.Cmp(Quantity{m: -1024}) > 0 && q.Cmp(Quantity{m: 1024}) < 0 {
			format = DecimalSI
		} else if v, ok := q.integer(); ok {
			digits, k := removeFactors(v, 1024)
			b = append(b, digits...)
			if k >= 1 && k <= 6 {
				b = append(b, "KMGTPE"[k-1], 'i')
			}
			return b
		} else {
			format = DecimalSI
		}
	}
	digits, exp := q.canonicalDecimal()
	b = append(b, digits...)
	switch format {
	case DecimalExponent:
		if exp != 0 {
			b = append(b, 'e')
			b = strconv.AppendInt(b, int64(exp), 10)
		}
	default:
		if exp >= -9 && exp <= 18 {
			b = append(b, decimalSuffixes[(exp+9)/3]...)
		}
		// Beyond E the server writes no suffix at all (and so a wrong
		// value); String does the same, as it writes what the server does.
	}
	return b
}

var decimalSuffixes = [...]string{"n", "u", "m", "", "k", "M", "G", "T", "P", "E"}

// integer returns the value as an integer when it is whole.
func (q Quantity) integer() (*big.Int, bool) {
	m := q.mant()
	if q.exp >= 0 {
		return m.Mul(m, pow10(int(q.exp))), true
	}
	r := new(big.Int)
	m.QuoRem(m, pow10(int(-q.exp)), r)
	return m, r.Sign() == 0
}

// canonicalDecimal returns the mantissa's digits and an exponent that is a
// multiple of three, with as few digits as that allows.
func (q Quantity) canonicalDecimal() (string, int32) {
	if q.b == nil {
		m, exp := q.m, q.exp
		for m%10 == 0 {
			m /= 10
			exp++
		}
		var ok bool
		switch exp % 3 {
		case 1, -2:
			m, ok = mulInt64(m, 10)
			exp--
		case 2, -1:
			m, ok = mulInt64(m, 100)
			exp -= 2
		default:
			ok = true
		}
		if ok {
			return strconv.FormatInt(m, 10), exp
		}
	}
	m, exp := q.mant(), q.exp
	digits, k := removeFactors(m, 10)
	exp += int32(k)
	m, _ = new(big.Int).SetString(digits, 10)
	for exp%3 != 0 {
		m.Mul(m, big.NewInt(10))
		exp--
	}
	return m.String(), exp
}

// removeFactors divides the non-zero m by base as long as it divides
// evenly and returns what is left, in decimal, and the count.
func removeFactors(m *big.Int, base int64) (string, int) {
	if m.IsInt64() {
		v, k := m.Int64(), 0
		for v != 0 && v%base == 0 {
			v /= base
			k++
		}
		return strconv.FormatInt(v, 10), k
	}
	bb := big.NewInt(base)
	q, r := new(big.Int), new(big.Int)
	k := 0
	for m.Sign() != 0 {
		q.QuoRem(m, bb, r)
		if r.Sign() != 0 {
			break
		}
		m, q = q, m
		k++
	}
	return m.String(), k
}
