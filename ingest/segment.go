package ingest

import (
	"path/filepath"
	"strings"
	"time"
)

// A listener's archive (ingest/listen) keeps what it received in segment
// files named after when each was opened: SegmentPrefix, the UTC time as
// SegmentStamp, "-N" when several opened in the same millisecond, then
// SegmentExt, and ".gz" once compressed. The name is all a reader of files
// needs to know of the listener: a segment's lines are in the order they
// arrived, and a directory's segments sort by name in that order.
const (
	SegmentPrefix = "syslog-"
	SegmentStamp  = "20060102T150405.000Z"
	// SegmentExt ends the name of a segment being written or not yet
	// compressed; compressed segments end in SegmentExt + ".gz".
	SegmentExt = ".log"
)

// IsSegment reports whether path names an archive segment, compressed or
// not: syslog-<UTC time>[-N].log[.gz].
func IsSegment(path string) bool {
	name := strings.TrimSuffix(filepath.Base(path), ".gz")
	stamp, ok := strings.CutPrefix(strings.TrimSuffix(name, SegmentExt), SegmentPrefix)
	if !ok || !strings.HasSuffix(name, SegmentExt) || len(stamp) < len(SegmentStamp) {
		return false
	}
	_, err := time.Parse(SegmentStamp, stamp[:len(SegmentStamp)])
	return err == nil && (len(stamp) == len(SegmentStamp) || stamp[len(SegmentStamp)] == '-')
}
