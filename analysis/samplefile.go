package analysis

import (
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
// read back one by one, or many at once, when a state is handed over.
//
// Shards share the file, each appending to a region of its own
// (samplePart) without a lock. With one buffer and one lock for all, the
// shards' goroutines spun and slept on the lock: on the first half of the
// NSX corpus the model took 107 ns a line with a sample file against 92-95
// without (BenchmarkModelPipelineHourly), and 99 with the parts. Lines are
// read back only when no shard is adding (the Model's lock), after the
// parts are written out.
type sampleFile struct {
	mu    sync.Mutex
	f     *os.File
	end   int64 // bytes of the file given to parts (guarded by mu)
	err   error // the first error: the states handed since miss sample lines (guarded by mu)
	parts [numShards]samplePart

	// getAll's buffers, kept for its next call (guarded by mu)
	places  []linePlace
	order   []uint64
	readBuf []byte
}

// samplePart is where one shard appends its lines: the region of the file
// from off to end, whose first lines wait in buf. buf is written at off
// when the region is full, and when lines are read back.
type samplePart struct {
	off, end int64
	buf      []byte
}

// sampleRegion is the size of the region a part takes at a time.
const sampleRegion = 64 << 10

// linePlace is a line getAll reads: where it is in the file, and where it
// is in the lines' string once read.
type linePlace struct {
	r   sampleRef
	pos int
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
	return &sampleFile{f: f}
}

// put appends a line for shard sh, which no other goroutine adds for
// meanwhile.
func (s *sampleFile) put(sh int, line []byte) sampleRef {
	p := &s.parts[sh]
	if int64(len(p.buf)+len(line)) > p.end-p.off {
		err := s.write(p) // outside the lock: the parts' regions never overlap
		n := max(sampleRegion, int64(len(line)))
		s.mu.Lock()
		if err != nil {
			s.fail(err)
		}
		p.off, p.end = s.end, s.end+n
		s.end += n
		s.mu.Unlock()
		if p.buf == nil {
			p.buf = make([]byte, 0, sampleRegion)
		}
	}
	r := sampleRef{off: p.off + int64(len(p.buf)), n: uint32(len(line))}
	p.buf = append(p.buf, line...)
	return r
}

// write writes the lines waiting in p; p goes on after them.
func (s *sampleFile) write(p *samplePart) error {
	if len(p.buf) == 0 {
		return nil
	}
	_, err := s.f.WriteAt(p.buf, p.off)
	p.off += int64(len(p.buf))
	p.buf = p.buf[:0]
	return err
}

// fail notes err unless an error came first; the caller holds s.mu.
func (s *sampleFile) fail(err error) {
	if s.err == nil {
		s.err = fmt.Errorf("sample lines: %w", err)
	}
}

// flush writes the lines waiting in every part; the caller holds s.mu, and
// no shard adds meanwhile.
func (s *sampleFile) flush() {
	for i := range s.parts {
		if err := s.write(&s.parts[i]); err != nil {
			s.fail(err)
		}
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
			s.fail(err)
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
	// all: the lines in the order of out's lists; slots: those lists, parts of one.
	all := slices.Grow(s.places[:0], n)
	out := make([][]string, len(refs))
	slots := make([]string, n)
	for k, rs := range refs {
		if len(rs) > 0 {
			out[k] = slots[len(all) : len(all)+len(rs) : len(all)+len(rs)]
		}
		for _, r := range rs {
			all = append(all, linePlace{r: r})
			size += int(r.n)
		}
	}
	s.places = all
	var mask uint64
	s.order, mask = fileOrder(s.order, all)
	buf := s.readBuf
	defer func() { s.readBuf = buf }()
	lines := lineSink{reuse: reuse}
	lines.grow(size)
	order := s.order
	for i := 0; i < len(order); {
		first := &all[order[i]&mask]
		from, to := first.r.off, first.r.off+int64(first.r.n)
		j := i + 1
		for ; j < len(order); j++ {
			r := all[order[j]&mask].r
			end := r.off + int64(r.n)
			if r.off-to > sampleGap || end-from > sampleSpan {
				break
			}
			to = max(to, end)
		}
		buf = slices.Grow(buf[:0], int(to-from))[:to-from]
		if _, err := s.f.ReadAt(buf, from); err != nil {
			s.fail(err)
			return nil
		}
		for _, o := range order[i:j] {
			a := &all[o&mask]
			a.pos = lines.add(buf[a.r.off-from : a.r.off-from+int64(a.r.n)])
		}
		i = j
	}
	str := lines.string()
	for i, a := range all {
		slots[i] = str[a.pos : a.pos+int(a.r.n)]
	}
	return out
}

// fileOrder returns the lines of all in the order of the file (in order's
// memory), each as a key whose bits under mask are its index in all: its
// offset above placeBits and its index below. Sorted so, as plain
// numbers, a window's 12,288 lines (eachState's; a commit of the NSX
// corpus reads 11) took 0.6 ms; sorted as linePlaces by a comparison
// function, 1.0 ms. Lines at offsets past offsetLimit, or more lines than
// placeBits can number, are sorted by their offsets instead, their keys
// only their indices.
func fileOrder(order []uint64, all []linePlace) (_ []uint64, mask uint64) {
	order = slices.Grow(order[:0], len(all))
	fits := len(all) <= placeMask+1
	for i, a := range all {
		fits = fits && a.r.off < offsetLimit
		order = append(order, uint64(a.r.off)<<placeBits|uint64(i))
	}
	if fits {
		slices.Sort(order)
		return order, placeMask
	}
	for i := range order {
		order[i] = uint64(i)
	}
	slices.SortFunc(order, func(a, b uint64) int { return cmp.Compare(all[a].r.off, all[b].r.off) })
	return order, ^uint64(0)
}

// The parts of a fileOrder key: a line's offset in the file and its index.
const (
	placeBits   = 24
	placeMask   = 1<<placeBits - 1
	offsetLimit = 1 << (64 - placeBits)
)

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
