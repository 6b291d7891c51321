package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/flowsleuth/flowsleuth/analysis"
	"github.com/flowsleuth/flowsleuth/export"
)

// progressBar draws import progress on a terminal's stderr.
type progressBar struct {
	mu    sync.Mutex
	w     io.Writer
	start time.Time
	drawn bool
}

// newProgressBar returns nil unless w is a terminal.
func newProgressBar(w io.Writer) *progressBar {
	f, ok := w.(*os.File)
	if !ok {
		return nil
	}
	st, err := f.Stat()
	if err != nil || st.Mode()&os.ModeCharDevice == 0 {
		return nil
	}
	return &progressBar{w: w, start: time.Now()}
}

func (b *progressBar) update(p analysis.Progress) {
	b.mu.Lock()
	defer b.mu.Unlock()
	el := time.Since(b.start).Seconds()
	rate := float64(p.Done) / max(el, 1e-3)
	var line string
	if p.Total > 0 {
		frac := min(float64(p.Done)/float64(p.Total), 1)
		const width = 30
		n := int(frac * width)
		eta := "?"
		if rate > 0 {
			eta = time.Duration(float64(p.Total-p.Done) / rate * float64(time.Second)).Round(time.Second).String()
		}
		line = fmt.Sprintf("[%s%s] %3.0f%%  %s/%s  %.0f MB/s  ETA %s",
			strings.Repeat("=", n), strings.Repeat(" ", width-n), frac*100,
			export.HumanBytes(uint64(p.Done)), export.HumanBytes(uint64(p.Total)), rate/1e6, eta)
	} else {
		line = fmt.Sprintf("%s read  %.0f MB/s", export.HumanBytes(uint64(p.Done)), rate/1e6)
	}
	if p.Files > 1 {
		line = fmt.Sprintf("(%d/%d) %s", p.FileIndex+1, p.Files, line)
	}
	fmt.Fprintf(b.w, "\r%-90s", line)
	b.drawn = true
}

func (b *progressBar) finish() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.drawn {
		fmt.Fprintf(b.w, "\r%-90s\r", "")
	}
}
