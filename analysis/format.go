package analysis

import "strconv"

// Numbers as people read them, for the rule descriptions here and for the
// CLI's, the app's and export's tables.

// Thousands writes n with thousands separators: 1234567 → "1,234,567".
func Thousands(n uint64) string {
	s := strconv.FormatUint(n, 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
