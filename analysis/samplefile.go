package analysis

import (
	"bufio"
	"cmp"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"unsafe"
)

// sampleFile keeps the sample lines of a model's conversations in a file
// (Options.SampleFile) instead of its heap: three lines of 300 bytes per
// conversation were the largest part of an import's live heap. Lines are
// appended through a buffer and read back one by one when a state is handed
// over. Shards share it.
type sampleFile struct {
	mu      sync.Mutex
	f       *os.File
	w       *bufio.Writer
	end     int64 // bytes appended, buffered ones included
	flushed int64 // bytes in the file
	err     error // the first error: the states handed since miss sample lines

	// getAll's buffers, kept for its next call (guarded by mu)
	places  []linePlace
	readBuf []byte
}

// linePlace is a line getAll reads: where it is in the file, whose it is,
// and where it goes in the lines handed back.
type linePlace struct {
	r    sampleRef
	k, j int32 // out[k][j]
	pos  int   // where it is in the lines' string
}

// SampleRefs are where a conversation's sample lines are in its model's
// sample file (DrainRefs).
type SampleRefs []sampleRef

// sampleRef is where a sample line is in a sampleFile.
type sampleRef struct {
	off int64
	n   uint32
}

func newSampleFile(f *os.File) *sampleFile {
	return &sampleFile{f: f, w: bufio.NewWriterSize(f, 64<<10)}
}

// put appends a line.
func (s *sampleFile) put(line []byte) sampleRef {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := sampleRef{off: s.end, n: uint32(len(line))}
	if _, err := s.w.Write(line); err != nil && s.err == nil {
		s.err = fmt.Errorf("sample lines: %w", err)
	}
	s.end += int64(len(line))
	return r
}

// flush writes the buffered lines to the file; the caller holds s.mu.
func (s *sampleFile) flush() {
	if s.flushed < s.end {
		if err := s.w.Flush(); err != nil && s.err == nil {
			s.err = fmt.Errorf("sample lines: %w", err)
		}
		s.flushed = s.end
	}
}

// get reads lines back.
func (s *sampleFile) get(refs []sampleRef) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.flush()
	out := make([]string, 0, len(refs))
	for _, r := range refs {
		b := make([]byte, r.n)
		if _, err := s.f.ReadAt(b, r.off); err != nil {
			if s.err == nil {
				s.err = fmt.Errorf("sample lines: %w", err)
			}
			return nil
		}
		out = append(out, string(b))
	}
	return out
}

// Reading many lines back (getAll): lines less than sampleGap bytes apart
// in the file are read with one call, of at most sampleSpan bytes. A call
// costs about as much as copying a few tens of KB: read one by one, the
// 126,000 lines of 42,000 conversations took 126,000 calls, a quarter of an
// import's commit.
const (
	sampleGap  = 16 << 10
	sampleSpan = 256 << 10
)

// getAll reads back the lines of many conversations (refs[k]: the k-th's)
// in the order of the file, as get does each of theirs: out[k] are the
// k-th's lines, nil when it has none. On an error it returns nil, which
// failed reports. The lines are parts of one string: one allocation of
// their bytes, not one each (12,000 a window; a commit's collector ran
// for them), so a caller keeping one line keeps them all. With reuse, that
// string is a view of *reuse instead, which it grows as needed: the lines
// are valid until the caller's next use of *reuse.
func (s *sampleFile) getAll(refs []SampleRefs, reuse *[]byte) [][]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.flush()
	n, size := 0, 0
	for _, rs := range refs {
		n += len(rs)
	}
	all := slices.Grow(s.places[:0], n)
	out := make([][]string, len(refs))
	slots := make([]string, n) // out's lists, parts of one
	for k, rs := range refs {
		if len(rs) > 0 {
			out[k], slots = slots[:len(rs):len(rs)], slots[len(rs):]
		}
		for j, r := range rs {
			all = append(all, linePlace{r: r, k: int32(k), j: int32(j)})
			size += int(r.n)
		}
	}
	s.places = all
	slices.SortFunc(all, func(a, b linePlace) int { return cmp.Compare(a.r.off, b.r.off) })
	buf := s.readBuf
	defer func() { s.readBuf = buf }()
	lines := lineSink{reuse: reuse}
	lines.grow(size)
	for i := 0; i < len(all); {
		from, to := all[i].r.off, all[i].r.off+int64(all[i].r.n)
		j := i + 1
		for ; j < len(all); j++ {
			r := all[j].r
			end := r.off + int64(r.n)
			if r.off-to > sampleGap || end-from > sampleSpan {
				break
			}
			to = max(to, end)
		}
		buf = slices.Grow(buf[:0], int(to-from))[:to-from]
		if _, err := s.f.ReadAt(buf, from); err != nil {
			if s.err == nil {
				s.err = fmt.Errorf("sample lines: %w", err)
			}
			return nil
		}
		for x := range all[i:j] {
			a := &all[i+x]
			a.pos = lines.add(buf[a.r.off-from : a.r.off-from+int64(a.r.n)])
		}
		i = j
	}
	str := lines.string()
	for _, a := range all {
		out[a.k][a.j] = str[a.pos : a.pos+int(a.r.n)]
	}
	return out
}

// lineSink gathers the lines getAll reads: into a string of their own, or
// into the caller's buffer (reuse).
type lineSink struct {
	b     strings.Builder
	reuse *[]byte
}

// grow makes room for n bytes of lines.
func (l *lineSink) grow(n int) {
	if l.reuse == nil {
		l.b.Grow(n)
	} else {
		*l.reuse = slices.Grow((*l.reuse)[:0], n)
	}
}

// add appends a line and returns where it starts.
func (l *lineSink) add(line []byte) int {
	if l.reuse == nil {
		pos := l.b.Len()
		l.b.Write(line)
		return pos
	}
	pos := len(*l.reuse)
	*l.reuse = append(*l.reuse, line...)
	return pos
}

// string returns the lines added: a view of the caller's buffer with reuse.
func (l *lineSink) string() string {
	if l.reuse == nil {
		return l.b.String()
	}
	return unsafe.String(unsafe.SliceData(*l.reuse), len(*l.reuse))
}

// failed returns the first error.
func (s *sampleFile) failed() error {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}
