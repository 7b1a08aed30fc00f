package usage

import (
	"fmt"
	"math/big"
	"strconv"
	"strings"
)

// Rounding rules; the same words the service mappings store.
const (
	RoundUp      = "up"
	RoundDown    = "down"
	RoundNearest = "nearest"
)

// Raw units Acronis measures in (usage measurement_unit).
const (
	UnitBytes    = "bytes"
	UnitQuantity = "quantity"
	UnitSeconds  = "seconds"
)

// GiBDivisor is a binary gigabyte in bytes: storage is billed in GB = 2^30
// bytes, rounded up, unless a mapping says otherwise.
const GiBDivisor = "1073741824"

// Conversion turns a raw usage value into whole billed units: billed =
// round(raw / Divisor). Autotask units are integers (unitChange is int32), so
// the billed value is always a whole number; the raw value is kept beside it.
type Conversion struct {
	RawUnit    string `json:"rawUnit"`
	BilledUnit string `json:"billedUnit"`
	// Divisor is an exact decimal > 0 ("1" when empty).
	Divisor string `json:"divisor"`
	// Rounding is RoundUp (when empty), RoundDown or RoundNearest (halves away from zero).
	Rounding string `json:"rounding"`
}

// DefaultConversion is what a mapping without explicit units uses: bytes
// become binary GB rounded up (SPEC F8), everything else is counted as is.
func DefaultConversion(rawUnit string) Conversion {
	if rawUnit == UnitBytes {
		return Conversion{RawUnit: UnitBytes, BilledUnit: "GB", Divisor: GiBDivisor, Rounding: RoundUp}
	}
	if rawUnit == "" {
		rawUnit = UnitQuantity
	}
	return Conversion{RawUnit: rawUnit, BilledUnit: "unit", Divisor: "1", Rounding: RoundUp}
}

// Rule describes the conversion for the ledger's rounding column, e.g.
// "bytes/1073741824, up".
func (c Conversion) Rule() string {
	d := c.Divisor
	if d == "" {
		d = "1"
	}
	r := c.Rounding
	if r == "" {
		r = RoundUp
	}
	return fmt.Sprintf("%s/%s, %s", c.RawUnit, d, r)
}

// Bill converts raw into whole billed units.
func (c Conversion) Bill(raw *big.Rat) (*big.Int, error) {
	div := big.NewRat(1, 1)
	if c.Divisor != "" {
		d, err := ParseDecimal(c.Divisor)
		if err != nil {
			return nil, fmt.Errorf("divisor: %w", err)
		}
		div = d
	}
	if div.Sign() <= 0 {
		return nil, fmt.Errorf("divisor %s is not positive", c.Divisor)
	}
	if raw.Sign() < 0 {
		return nil, fmt.Errorf("raw value %s is negative", FormatDecimal(raw))
	}
	q := new(big.Rat).Quo(raw, div)
	return Round(q, c.Rounding)
}

// Round rounds a non-negative exact value to an integer by rule.
func Round(q *big.Rat, rule string) (*big.Int, error) {
	num, den := q.Num(), q.Denom()
	quo, rem := new(big.Int).QuoRem(num, den, new(big.Int))
	if rem.Sign() == 0 {
		return quo, nil
	}
	switch rule {
	case "", RoundUp:
		if q.Sign() > 0 {
			quo.Add(quo, big.NewInt(1))
		}
	case RoundDown:
		if q.Sign() < 0 {
			quo.Sub(quo, big.NewInt(1))
		}
	case RoundNearest:
		// |rem|*2 >= den rounds away from zero.
		twice := new(big.Int).Mul(new(big.Int).Abs(rem), big.NewInt(2))
		if twice.Cmp(den) >= 0 {
			if q.Sign() > 0 {
				quo.Add(quo, big.NewInt(1))
			} else {
				quo.Sub(quo, big.NewInt(1))
			}
		}
	default:
		return nil, fmt.Errorf("unknown rounding %q (want up, down or nearest)", rule)
	}
	return quo, nil
}

// ParseDecimal reads an exact decimal ("1073741824", "0.5", "1e3").
func ParseDecimal(s string) (*big.Rat, error) {
	r, ok := new(big.Rat).SetString(strings.TrimSpace(s))
	if !ok {
		return nil, fmt.Errorf("%q is not a decimal number", s)
	}
	return r, nil
}

// FromFloat converts a number decoded from Acronis JSON into an exact value:
// the shortest decimal that reads back as the same float, i.e. the decimal
// the JSON most likely carried, not the float's binary expansion. NaN and
// infinities are refused.
func FromFloat(v float64) (*big.Rat, error) {
	s := strconv.FormatFloat(v, 'f', -1, 64)
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return nil, fmt.Errorf("usage value %v is not a finite number", v)
	}
	return r, nil
}

// FormatDecimal renders an exact value as a plain decimal without losing
// digits when it terminates (every sum of decimals does); a value that does
// not terminate is cut at 30 decimal places.
func FormatDecimal(r *big.Rat) string {
	if r.IsInt() {
		return r.Num().String()
	}
	// The decimal terminates iff the reduced denominator is 2^a·5^b; it then
	// has max(a, b) decimal places.
	den := new(big.Int).Set(r.Denom())
	places := 0
	for _, p := range []int64{2, 5} {
		n := 0
		bp := big.NewInt(p)
		m := new(big.Int)
		for {
			q, rem := new(big.Int).QuoRem(den, bp, m)
			if rem.Sign() != 0 {
				break
			}
			den = q
			n++
		}
		places = max(places, n)
	}
	if den.Cmp(big.NewInt(1)) != 0 {
		places = 30
	}
	s := r.FloatString(places)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}

// SameDecimal reports whether two decimal strings hold the same value
// ("2" and "2.00"); unparsable strings are never the same.
func SameDecimal(a, b string) bool {
	x, err := ParseDecimal(a)
	if err != nil {
		return false
	}
	y, err := ParseDecimal(b)
	if err != nil {
		return false
	}
	return x.Cmp(y) == 0
}
