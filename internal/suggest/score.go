package suggest

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
)

// Company is what scoring needs of an Autotask company.
type Company struct {
	ID       int64
	Name     string
	Key      string // Normalize(Name)
	Initials string // Initials(Key)
	Domain   string // EmailDomain of the primary contact
}

// Candidate is a tenant a candidate query found for a company, with the
// trigram similarity of the two keys (PostgreSQL pg_trgm similarity()).
type Candidate struct {
	TenantID    string
	Name        string
	Key         string
	Initials    string
	Domain      string
	InternalTag string
	CustomerRef string
	Similarity  float64
}

// Suggestion is a tenant proposed for a company: Confidence in [0, 1] and
// the reasons in words, strongest first.
type Suggestion struct {
	TenantID   string   `json:"tenantId"`
	TenantName string   `json:"tenantName"`
	Confidence float64  `json:"confidence"`
	Reasons    []string `json:"reasons"`
}

// Weights of each kind of evidence, as the probability that it alone is
// right. They were tuned on the generated data set of TestPrecisionRecall
// (BENCHMARKS.md, "Mapping suggestions").
const (
	weightTag        = 0.99 // the integration itself provisioned this tenant for the company
	weightCustomerID = 0.90 // customer_id names the company id
	weightSameKey    = 0.95
	weightInitials   = 0.60
	weightDomain     = 0.70
	// similarity below minSimilarity is not evidence; above it, it weighs up to weightFuzzy.
	minSimilarity = 0.3
	weightFuzzy   = 0.85
	// MinConfidence is the least confidence worth showing.
	MinConfidence = 0.25
	// MaxSuggestions bounds the suggestions per company.
	MaxSuggestions = 5
)

// InternalTag is the internal_tag the integration writes on tenants it
// provisions (activities.InternalTag uses the same form).
func InternalTag(companyID int64) string {
	return "autotask:company:" + strconv.FormatInt(companyID, 10)
}

// Score weighs the evidence for one candidate; pieces of evidence combine as
// independent witnesses (1 − Π(1 − wᵢ)), so two weak hints together beat one.
// ok is false when nothing links the two.
func Score(c Company, t Candidate) (Suggestion, bool) {
	type evidence struct {
		w      float64
		reason string
	}
	var ev []evidence
	if t.InternalTag != "" && t.InternalTag == InternalTag(c.ID) {
		ev = append(ev, evidence{weightTag, fmt.Sprintf("the tenant's internal_tag %q names this company", t.InternalTag)})
	}
	if t.CustomerRef != "" && t.CustomerRef == strconv.FormatInt(c.ID, 10) {
		ev = append(ev, evidence{weightCustomerID, fmt.Sprintf("the tenant's customer_id %q is this company's id", t.CustomerRef)})
	}
	switch {
	case c.Key != "" && c.Key == t.Key:
		ev = append(ev, evidence{weightSameKey, "same name when legal suffixes, punctuation and case are ignored"})
	case c.Key != "" && Compact(c.Key) == Compact(t.Key):
		ev = append(ev, evidence{weightSameKey - 0.05, "same name when spaces are ignored"})
	case t.Similarity >= minSimilarity:
		w := weightFuzzy * (t.Similarity - minSimilarity) / (1 - minSimilarity)
		ev = append(ev, evidence{w, fmt.Sprintf("names %.0f%% similar", t.Similarity*100)})
	}
	if c.Key != t.Key {
		switch {
		case c.Initials != "" && c.Initials == Compact(t.Key):
			ev = append(ev, evidence{weightInitials, fmt.Sprintf("%q is the initials of %q", t.Name, c.Name)})
		case t.Initials != "" && t.Initials == Compact(c.Key):
			ev = append(ev, evidence{weightInitials, fmt.Sprintf("%q is the initials of %q", c.Name, t.Name)})
		}
	}
	if c.Domain != "" && c.Domain == t.Domain {
		ev = append(ev, evidence{weightDomain, fmt.Sprintf("the primary contact and the tenant's contact share the e-mail domain %s", c.Domain)})
	}
	if len(ev) == 0 {
		return Suggestion{}, false
	}
	slices.SortStableFunc(ev, func(a, b evidence) int { return cmp.Compare(b.w, a.w) })
	miss := 1.0
	s := Suggestion{TenantID: t.TenantID, TenantName: t.Name}
	for _, e := range ev {
		miss *= 1 - e.w
		s.Reasons = append(s.Reasons, e.reason)
	}
	s.Confidence = math.Round((1-miss)*100) / 100
	return s, s.Confidence >= MinConfidence
}

// Rank scores every candidate and returns the best MaxSuggestions, most
// confident first (ties by tenant name, then id, so answers are stable).
func Rank(c Company, candidates []Candidate) []Suggestion {
	out := []Suggestion{}
	for _, t := range candidates {
		if s, ok := Score(c, t); ok {
			out = append(out, s)
		}
	}
	slices.SortFunc(out, func(a, b Suggestion) int {
		return cmp.Or(cmp.Compare(b.Confidence, a.Confidence), cmp.Compare(a.TenantName, b.TenantName), cmp.Compare(a.TenantID, b.TenantID))
	})
	if len(out) > MaxSuggestions {
		out = out[:MaxSuggestions]
	}
	return out
}
