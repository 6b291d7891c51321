package analysis

import (
	"fmt"
	"math/rand/v2"
	"os"
	"reflect"
	"strings"
	"testing"
)

// TestSampleFileGetAll: lines read back many conversations at once, in
// the file's order with one call for lines near each other, are those read
// one by one, each in its conversation's place: lines next to each other,
// far apart (more than sampleGap), in spans longer than sampleSpan, and
// conversations with none.
func TestSampleFileGetAll(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "samples")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s := newSampleFile(f)
	rng := rand.New(rand.NewPCG(1, 2))
	var refs []sampleRef
	for i := range 3000 {
		n := 1 + rng.IntN(400)
		if i%50 == 0 {
			n = sampleGap + rng.IntN(2*sampleGap) // a gap to the lines around it
		}
		line := fmt.Sprintf("%d:%s", i, strings.Repeat(string(rune('a'+i%26)), n))
		refs = append(refs, s.put([]byte(line)))
	}
	convs := make([]SampleRefs, 700)
	for _, i := range rng.Perm(len(refs)) {
		if k := rng.IntN(len(convs) + 100); k < len(convs) && len(convs[k]) < 5 {
			convs[k] = append(convs[k], refs[i])
		}
	}
	check := func(t *testing.T, convs []SampleRefs, got [][]string) {
		t.Helper()
		if err := s.failed(); err != nil {
			t.Fatal(err)
		}
		if len(got) != len(convs) {
			t.Fatalf("%d conversations read back, want %d", len(got), len(convs))
		}
		for k, rs := range convs {
			var want []string
			if len(rs) > 0 {
				want = s.get(rs)
			}
			if !reflect.DeepEqual(got[k], want) {
				t.Fatalf("conversation %d: lines %.40q, want %.40q", k, got[k], want)
			}
		}
	}
	check(t, convs, s.getAll(convs, nil))
	// Into a buffer of the caller's, reused: each call's lines are right
	// until the next call.
	var buf []byte
	for _, part := range [][]SampleRefs{convs[:300], convs[300:], convs[:10]} {
		check(t, part, s.getAll(part, &buf))
	}
}
