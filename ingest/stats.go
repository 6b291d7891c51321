package ingest

import "sort"

// Bucket is where a line ends up. Every input line ends in exactly one.
type Bucket uint8

// Buckets.
const (
	Parsed      Bucket = iota // a firewall event
	Unsupported               // a firewall line FlowSleuth recognises but does not model
	Skipped                   // not a firewall line (other syslog traffic, blank lines)
	Malformed                 // a firewall line that could not be read
)

var bucketNames = [...]string{"parsed", "unsupported", "skipped", "malformed"}

func (b Bucket) String() string {
	if int(b) < len(bucketNames) {
		return bucketNames[b]
	}
	return "bucket?"
}

// MaxMalformedSamples is how many malformed lines Stats keeps for display.
const MaxMalformedSamples = 100

// Counts are the totals of Stats that add up the same however inputs are
// summed: over the chunks of a file, the files of an import, or a source's
// imports (the workspace keeps them beside its own form of the rest).
type Counts struct {
	Bytes       int64 // bytes read (after decompression)
	Lines       int64
	Events      int64
	Unsupported int64
	Skipped     int64
	Malformed   int64
	NULLines    int64 // lines from which NUL bytes were removed
}

// Add adds o to c.
func (c *Counts) Add(o Counts) {
	c.Bytes += o.Bytes
	c.Lines += o.Lines
	c.Events += o.Events
	c.Unsupported += o.Unsupported
	c.Skipped += o.Skipped
	c.Malformed += o.Malformed
	c.NULLines += o.NULLines
}

// Stats counts what an input contained. The zero value is ready to use.
type Stats struct {
	Counts
	Pending int64 // bytes of a last line without newline, held back (WithHoldPartialLine)

	Vendors            [NSX4 + 1]int64 // events per vendor, indexed by Vendor
	UnsupportedReasons map[string]int64
	MalformedReasons   map[string]int64
	MalformedSamples   []ParseError // the first MaxMalformedSamples
}

// count records one line's outcome.
func (s *Stats) count(b Bucket, v Vendor, err error) {
	s.Lines++
	switch b {
	case Parsed:
		s.Events++
		if int(v) < len(s.Vendors) {
			s.Vendors[v]++
		}
	case Unsupported:
		s.Unsupported++
		if s.UnsupportedReasons == nil {
			s.UnsupportedReasons = make(map[string]int64)
		}
		s.UnsupportedReasons[Reason(err).Error()]++
	case Skipped:
		s.Skipped++
	case Malformed:
		s.Malformed++
		if s.MalformedReasons == nil {
			s.MalformedReasons = make(map[string]int64)
		}
		s.MalformedReasons[Reason(err).Error()]++
	}
}

func (s *Stats) sample(pe ParseError) {
	if len(s.MalformedSamples) < MaxMalformedSamples {
		s.MalformedSamples = append(s.MalformedSamples, pe)
	}
}

// Add merges o into s. Samples beyond MaxMalformedSamples are dropped.
// Pending adds up too: the held-back tails of different inputs.
func (s *Stats) Add(o *Stats) {
	s.Counts.Add(o.Counts)
	s.Pending += o.Pending
	for v, n := range o.Vendors {
		s.Vendors[v] += n
	}
	s.UnsupportedReasons = addCounts(s.UnsupportedReasons, o.UnsupportedReasons)
	s.MalformedReasons = addCounts(s.MalformedReasons, o.MalformedReasons)
	for _, pe := range o.MalformedSamples {
		s.sample(pe)
	}
}

func addCounts[K comparable](dst, src map[K]int64) map[K]int64 {
	if len(src) == 0 {
		return dst
	}
	if dst == nil {
		dst = make(map[K]int64, len(src))
	}
	for k, n := range src {
		dst[k] += n
	}
	return dst
}

// ReasonCount is a reason and how many lines it covers.
type ReasonCount struct {
	Reason string
	Count  int64
}

// TopReasons returns the reasons of m, most frequent first (ties by name).
func TopReasons(m map[string]int64) []ReasonCount {
	out := make([]ReasonCount, 0, len(m))
	for r, n := range m {
		out = append(out, ReasonCount{r, n})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Reason < out[j].Reason
	})
	return out
}
