package printable

import (
	"bytes"
	"strings"
	"testing"
)

func TestText(t *testing.T) {
	for _, tc := range []struct{ in, text, field string }{
		{"plain text, ünïcödé 日本", "plain text, ünïcödé 日本", "plain text, ünïcödé 日本"},
		{"clear\x1b[2J", `clear\x1b[2J`, `clear\x1b[2J`},
		{"title\x1b]0;pwned\x07", `title\x1b]0;pwned\x07`, `title\x1b]0;pwned\x07`},
		{"clip\x1b]52;c;ZXZpbA==\x07", `clip\x1b]52;c;ZXZpbA==\x07`, `clip\x1b]52;c;ZXZpbA==\x07`},
		{"a\tb\nc\rd", "a\tb\nc\\x0dd", `a\x09b\x0ac\x0dd`},
		{"del\x7f nul\x00", `del\x7f nul\x00`, `del\x7f nul\x00`},
		{"c1 csi \u009b2J", `c1 csi \u009b2J`, `c1 csi \u009b2J`},
		{"raw 8-bit csi \x9b2J", `raw 8-bit csi \x9b2J`, `raw 8-bit csi \x9b2J`},
		{"bidi \u202eevil\u202c txt.exe", `bidi \u202eevil\u202c txt.exe`, `bidi \u202eevil\u202c txt.exe`},
		{"isolate \u2066x\u2069, mark \u200f", `isolate \u2066x\u2069, mark \u200f`, `isolate \u2066x\u2069, mark \u200f`},
		{"line\u2028sep", `line\u2028sep`, `line\u2028sep`},
		{"tabwriter escape \xff", `tabwriter escape \xff`, `tabwriter escape \xff`},
	} {
		if got := Text(tc.in); got != tc.text {
			t.Errorf("Text(%q) = %q, want %q", tc.in, got, tc.text)
		}
		if got := Field(tc.in); got != tc.field {
			t.Errorf("Field(%q) = %q, want %q", tc.in, got, tc.field)
		}
	}
}

// TestWriterSplits: the Writer escapes the same whatever the writes cut,
// even inside a character, and reports the bytes it was given.
func TestWriterSplits(t *testing.T) {
	in := "ok ünï \x1b[2J \u202e日本\u009b end\n"
	want := Text(in)
	for cut := 0; cut <= len(in); cut++ {
		var out bytes.Buffer
		w := NewWriter(&out)
		for _, part := range []string{in[:cut], in[cut:]} {
			if n, err := w.Write([]byte(part)); n != len(part) || err != nil {
				t.Fatalf("cut %d: wrote %d of %d, %v", cut, n, len(part), err)
			}
		}
		if out.String() != want {
			t.Errorf("cut %d: %q, want %q", cut, out.String(), want)
		}
	}
}

// FuzzText: no character a terminal acts on survives, whatever the input.
func FuzzText(f *testing.F) {
	f.Add("\x1b[2J\u202e\u009b\xff\r")
	f.Fuzz(func(t *testing.T, s string) {
		for name, out := range map[string]string{"Text": Text(s), "Field": Field(s)} {
			for i, r := range out {
				if r < 0x20 && !(name == "Text" && (r == '\n' || r == '\t')) || r == 0x7f || unsafeRune(r) || r == 0xfffd && !strings.Contains(s, "\ufffd") {
					t.Fatalf("%s(%q) keeps %U at %d: %q", name, s, r, i, out)
				}
			}
		}
	})
}
