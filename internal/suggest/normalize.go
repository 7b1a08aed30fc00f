// Package suggest proposes which Acronis tenant an unmapped Autotask company
// probably is, with a confidence and the reasons behind it, so an admin maps
// existing customers by confirming instead of copying tenant UUIDs.
//
// The rules are pure functions over the read model's rows: Normalize and
// Initials are stored with every company and tenant (the database indexes
// them), Score weighs the evidence a candidate query found.
package suggest

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// legalSuffixes are words that say what kind of legal entity a company is,
// not which one: "Contoso Ltd", "Contoso, Inc." and "CONTOSO GmbH" are the
// same customer.
var legalSuffixes = map[string]bool{
	"inc": true, "incorporated": true, "llc": true, "ltd": true, "limited": true, "corp": true,
	"corporation": true, "co": true, "company": true, "plc": true, "gmbh": true, "ag": true,
	"kg": true, "mbh": true, "sa": true, "sas": true, "sarl": true, "srl": true, "spa": true,
	"bv": true, "nv": true, "oy": true, "ab": true, "as": true, "aps": true, "pty": true,
	"pte": true, "lp": true, "llp": true, "kft": true, "sro": true, "ug": true, "se": true,
	"group": true, "holding": true, "holdings": true,
}

// Normalize returns the name's key: lower case, accents folded, punctuation
// removed ("L.L.C." becomes "llc"), "&" read as "and", and legal suffixes and
// a leading "the" dropped. Two names with the same key name the same company
// as far as a human reader is concerned.
func Normalize(name string) string {
	words := words(name)
	for len(words) > 1 && legalSuffixes[words[len(words)-1]] {
		words = words[:len(words)-1]
	}
	if len(words) > 1 && words[0] == "the" {
		words = words[1:]
	}
	return strings.Join(words, " ")
}

// Initials returns the first letters of a key's words when it has at least
// two ("international business machines" → "ibm"), else "". A company called
// by its initials in one system and in full in the other matches on them.
func Initials(key string) string {
	ws := strings.Fields(key)
	if len(ws) < 2 {
		return ""
	}
	var b strings.Builder
	for _, w := range ws {
		if w == "and" || w == "of" {
			continue
		}
		r := []rune(w)
		b.WriteRune(r[0])
	}
	if b.Len() < 2 {
		return ""
	}
	return b.String()
}

// Compact is the key without spaces: "i b m" and "ibm" compare equal.
func Compact(key string) string { return strings.ReplaceAll(key, " ", "") }

func words(name string) []string {
	folded := norm.NFD.String(strings.ToLower(name))
	var b strings.Builder
	for _, r := range folded {
		switch {
		case unicode.Is(unicode.Mn, r), r == '.', r == '\'', r == '’':
			// accents and the dots of abbreviations vanish: "L.L.C." is "llc"
		case r == '&' || r == '+':
			b.WriteString(" and ")
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
		default:
			b.WriteByte(' ')
		}
	}
	return strings.Fields(b.String())
}

// freeMail are mailbox providers: a shared domain says nothing about a company.
var freeMail = map[string]bool{
	"gmail.com": true, "googlemail.com": true, "outlook.com": true, "hotmail.com": true, "live.com": true,
	"msn.com": true, "yahoo.com": true, "icloud.com": true, "me.com": true, "aol.com": true,
	"gmx.de": true, "gmx.net": true, "web.de": true, "proton.me": true, "protonmail.com": true,
	"mail.com": true, "yandex.ru": true, "t-online.de": true,
}

// EmailDomain returns the lower-case domain of an address, or "" when there
// is none or it belongs to a free mailbox provider.
func EmailDomain(email string) string {
	at := strings.LastIndexByte(email, '@')
	if at < 0 {
		return ""
	}
	d := strings.ToLower(strings.TrimSpace(email[at+1:]))
	if d == "" || !strings.Contains(d, ".") || freeMail[d] {
		return ""
	}
	return d
}
