package suggest

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// Variation says how a generated tenant's name differs from its company's.
type Variation string

// Variations of the generated data set, in the proportions of Generate.
const (
	VarExact       Variation = "exact"       // same name, other legal suffix, case or punctuation
	VarMisspelled  Variation = "misspelled"  // one or two typing mistakes
	VarAbbreviated Variation = "abbreviated" // initials ("Kalori Vento Logistics" → "KVL")
	VarRenamed     Variation = "renamed"     // a different name; only the e-mail domain links them
	VarNone        Variation = "none"        // the company has no tenant
)

// GenCompany and GenTenant are rows of the generated data set.
type GenCompany struct {
	ID     int64
	Name   string
	Email  string
	Answer string // the tenant id that is this company, "" when none
	Var    Variation
}

// GenTenant is a generated Acronis tenant.
type GenTenant struct {
	ID    string
	Name  string
	Email string
}

// Dataset is a generated pair of company and tenant lists with known
// answers, for measuring suggestion precision and recall and for the list
// benchmark.
type Dataset struct {
	Companies []GenCompany
	Tenants   []GenTenant
}

var (
	syllables = []string{"ka", "lo", "ri", "tan", "vex", "mor", "ba", "zen", "qui", "dar", "el", "fon", "gri", "hal", "is",
		"jo", "kel", "lum", "nor", "ost", "pra", "rus", "sil", "tor", "ul", "vin", "wes", "yar", "zo", "bel"}
	industries = []string{"Logistics", "Dental", "Consulting", "Bakery", "Engineering", "Legal", "Architects", "Motors",
		"Pharmacy", "Insurance", "Builders", "Studios", "Foods", "Textiles", "Software", "Clinic", "Travel", "Energy"}
	suffixes = []string{"", "", "Ltd", "Inc", "LLC", "GmbH", "Corp.", "Limited", "S.A.", "B.V.", "& Co. KG", "Pty Ltd"}
)

// Generate builds n companies with a fixed seed: 30% exact, 20% misspelled,
// 15% abbreviated, 15% renamed, 20% without a tenant, plus n/5 unrelated
// tenants, some sharing a word with a company (hard negatives).
func Generate(n int, seed uint64) Dataset {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	used := map[string]bool{}
	word := func() string {
		for {
			w := ""
			for k := 2 + r.IntN(2); k > 0; k-- {
				w += syllables[r.IntN(len(syllables))]
			}
			if !used[w] {
				used[w] = true
				return strings.ToUpper(w[:1]) + w[1:]
			}
		}
	}
	var d Dataset
	for i := range n {
		core := word()
		if r.IntN(2) == 0 {
			core += " " + word()
		}
		base := core + " " + industries[r.IntN(len(industries))]
		slug := strings.ToLower(strings.ReplaceAll(core, " ", ""))
		c := GenCompany{ID: int64(1000 + i), Name: strings.TrimSpace(base + " " + suffixes[r.IntN(len(suffixes))])}
		if r.IntN(10) < 8 {
			c.Email = "it@" + slug + ".example"
		}
		t := GenTenant{ID: fmt.Sprintf("t-%05d", i)}
		if r.IntN(2) == 0 && c.Email != "" {
			t.Email = "admin@" + slug + ".example"
		}
		switch p := r.IntN(100); {
		case p < 30:
			c.Var = VarExact
			t.Name = restyle(r, base)
		case p < 50:
			c.Var = VarMisspelled
			t.Name = misspell(r, base) + " " + suffixes[r.IntN(len(suffixes))]
		case p < 65:
			c.Var = VarAbbreviated
			t.Name = Initials(Normalize(base))
			t.Name = strings.ToUpper(t.Name) + " " + suffixes[r.IntN(len(suffixes))]
		case p < 80:
			c.Var = VarRenamed
			t.Name = word() + " " + industries[r.IntN(len(industries))]
			if c.Email == "" {
				c.Email = "it@" + slug + ".example"
			}
			t.Email = "admin@" + slug + ".example"
		default:
			c.Var = VarNone
		}
		if c.Var != VarNone {
			c.Answer = t.ID
			t.Name = strings.TrimSpace(t.Name)
			d.Tenants = append(d.Tenants, t)
		}
		d.Companies = append(d.Companies, c)
	}
	// Unrelated tenants; every other one shares its first word with a company.
	for i := range n / 5 {
		name := word() + " " + industries[r.IntN(len(industries))]
		if i%2 == 0 && len(d.Companies) > 0 {
			other := d.Companies[r.IntN(len(d.Companies))]
			first := strings.Fields(other.Name)[0]
			name = first + " " + industries[r.IntN(len(industries))]
		}
		d.Tenants = append(d.Tenants, GenTenant{ID: fmt.Sprintf("x-%05d", i), Name: name})
	}
	return d
}

// restyle changes case, punctuation and legal suffix but not the name.
func restyle(r *rand.Rand, base string) string {
	s := base + " " + suffixes[r.IntN(len(suffixes))]
	switch r.IntN(3) {
	case 0:
		s = strings.ToUpper(s)
	case 1:
		s = strings.ReplaceAll(s, " ", ", ")
	}
	return s
}

// misspell makes one or two typing mistakes in the core of the name.
func misspell(r *rand.Rand, s string) string {
	b := []rune(s)
	for k := 1 + r.IntN(2); k > 0; k-- {
		i := 1 + r.IntN(len(b)-2)
		if b[i] == ' ' || b[i-1] == ' ' {
			continue
		}
		switch r.IntN(3) {
		case 0: // swap two letters
			b[i], b[i-1] = b[i-1], b[i]
		case 1: // drop one
			b = append(b[:i], b[i+1:]...)
		default: // double one
			b = append(b[:i+1], b[i:]...)
		}
	}
	return string(b)
}
