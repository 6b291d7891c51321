package ingest

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// gz compresses text as one gzip member.
func gz(text string) []byte {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write([]byte(text))
	zw.Close()
	return b.Bytes()
}

func writeFile(t *testing.T, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "in")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// readAll opens b as a file and reads its text.
func readAll(t *testing.T, b []byte) (*Input, string, error) {
	t.Helper()
	in, err := Open(writeFile(t, b))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { in.Close() })
	text, err := io.ReadAll(in)
	return in, string(text), err
}

// TestGzipDamage: the text of gzip members whose CRC-32 and length check is
// verified; a member that fails its check, ends early or cannot be inflated
// is reported, with how much text was verified before it.
func TestGzipDamage(t *testing.T) {
	one, two := strings.Repeat(matchLine, 50), strings.Repeat(matchLine, 70)
	m1, m2 := gz(one), gz(two)
	badCRC := bytes.Clone(m2)
	badCRC[len(badCRC)-8] ^= 0xff // the CRC-32 in the trailer
	corrupt := bytes.Clone(m2)
	for i := 20; i < 40; i++ {
		corrupt[i] ^= 0x55 // the deflate data
	}
	for _, tc := range []struct {
		name     string
		file     []byte
		verified int64
		damaged  bool
		trailing int64
	}{
		{"one member", m1, int64(len(one)), false, 0},
		{"two members", append(bytes.Clone(m1), m2...), int64(len(one) + len(two)), false, 0},
		{"second member fails its CRC", append(bytes.Clone(m1), badCRC...), int64(len(one)), true, 0},
		{"second member cut short", append(bytes.Clone(m1), m2[:len(m2)/2]...), int64(len(one)), true, 0},
		{"only member cut short", m1[:len(m1)-3], 0, true, 0},
		{"corrupt deflate data", append(bytes.Clone(m1), corrupt...), int64(len(one)), true, 0},
		{"zero padding after the last member", append(bytes.Clone(m1), make([]byte, 512)...), int64(len(one)), false, 512},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in, text, err := readAll(t, tc.file)
			verified, derr := in.Damage()
			if (derr != nil) != tc.damaged || (err != nil) != tc.damaged || verified != tc.verified {
				t.Errorf("read %d bytes, error %v; damage %v, verified %d; want damaged %v, verified %d",
					len(text), err, derr, verified, tc.damaged, tc.verified)
			}
			if whole := one + two; !strings.HasPrefix(text, whole[:tc.verified]) {
				t.Error("the verified text is not the members' text")
			}
			if in.Trailing() != tc.trailing {
				t.Errorf("trailing %d, want %d", in.Trailing(), tc.trailing)
			}
		})
	}
}

// TestInputLimit: Limit ends the text at a byte count, Skip included.
func TestInputLimit(t *testing.T) {
	text := strings.Repeat(matchLine, 10)
	for name, file := range map[string][]byte{"plain": []byte(text), "gzip": gz(text)} {
		in, err := Open(writeFile(t, file))
		if err != nil {
			t.Fatal(err)
		}
		in.Limit(int64(3 * len(matchLine)))
		if err := in.Skip(int64(len(matchLine))); err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(in)
		in.Close()
		if err != nil || string(got) != matchLine+matchLine {
			t.Errorf("%s: read %q, %v; want two lines", name, got, err)
		}
	}
}
