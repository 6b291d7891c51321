package analysis

import (
	"bufio"
	"fmt"
	"os"
	"sync"
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
}

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

// get reads lines back.
func (s *sampleFile) get(refs []sampleRef) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.flushed < s.end {
		if err := s.w.Flush(); err != nil && s.err == nil {
			s.err = fmt.Errorf("sample lines: %w", err)
		}
		s.flushed = s.end
	}
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

// failed returns the first error.
func (s *sampleFile) failed() error {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}
