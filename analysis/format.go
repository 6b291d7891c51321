package analysis

import "strconv"

// Numbers and counts as people read them ("3,117 sources"), for the rule
// descriptions here and for the CLI's, the app's and export's tables.

// Thousands writes n with thousands separators: 1234567 → "1,234,567".
func Thousands(n uint64) string {
	s := strconv.FormatUint(n, 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// Plural writes a count and its noun for people: "1 source", "3,117
// sources", "2 addresses", "2 entries".
func Plural(n uint64, noun string) string { return Thousands(n) + " " + Noun(n, noun) }

// Noun is noun, in the plural unless n is 1: "entry" → "entries",
// "address" → "addresses".
func Noun(n uint64, noun string) string {
	if n == 1 {
		return noun
	}
	switch last := len(noun) - 1; {
	case last > 0 && noun[last] == 'y' && !isVowel(noun[last-1]):
		return noun[:last] + "ies"
	case last > 0 && (noun[last] == 's' || noun[last] == 'x'):
		return noun + "es"
	}
	return noun + "s"
}

func isVowel(b byte) bool {
	switch b {
	case 'a', 'e', 'i', 'o', 'u':
		return true
	}
	return false
}
