package workspace

import (
	"os"
	"time"

	"github.com/flowsleuth/flowsleuth/analysis"
)

// rewrittenShare is the share of a file of schema from that its upgrade
// writes to the WAL and then, at the checkpoint, to the file: migration 5
// copies the conversations into a new table (wstag1m at schema 4: 1.33 GB
// of WAL for a 1.45 GB file), migration 8 moves them into blocks (at
// schema 7: its 455 MB file grew by 194 MB).
func rewrittenShare(from int) float64 {
	if from < 5 {
		return 0.92
	}
	return 0.43
}

// WatchUpgrade reports, every interval until stop is called, how far the
// upgrade of the workspace at path has come, for a progress bar: the bytes
// written to its WAL and, at the checkpoint after, to the file, against
// what the upgrade of a file of its size writes. It reports nothing for a
// file that is not behind (Behind), and ends at done == total.
func WatchUpgrade(path string, interval time.Duration, progress func(done, total int64)) (stop func()) {
	st, err := os.Stat(path)
	from, _, behind := Behind(path)
	if !behind || err != nil {
		return func() {}
	}
	size, wal0 := st.Size(), int64(0)
	if st, err := os.Stat(path + "-wal"); err == nil {
		wal0 = st.Size() // another writer's frames, not the upgrade's
	}
	total := 2 * int64(rewrittenShare(from)*float64(size))
	var wal, last int64
	return analysis.Every(interval, func(stopping bool) {
		if stopping {
			progress(total, total)
			return
		}
		if st, err := os.Stat(path + "-wal"); err == nil {
			wal = max(wal, st.Size()-wal0) // the checkpoint truncates it at the end
		}
		grown := int64(0)
		if st, err := os.Stat(path); err == nil {
			grown = max(st.Size()-size, 0)
		}
		if done := min(wal+grown, total-1); done > last {
			last = done
			progress(done, total)
		}
	})
}
