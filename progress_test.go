package main

import (
	"bytes"
	"regexp"
	"testing"
	"time"

	"github.com/flowsleuth/flowsleuth/analysis"
)

func TestProgressBar(t *testing.T) {
	var buf bytes.Buffer
	if newProgressBar(&buf) != nil {
		t.Fatal("a progress bar on a non-terminal")
	}
	b := &progressBar{w: &buf, start: time.Now().Add(-2 * time.Second)}
	b.update(analysis.Progress{File: "a.log", FileIndex: 1, Files: 3, Done: 50 << 20, Total: 200 << 20})
	re := regexp.MustCompile(`^\r\(2/3\) \[=+ +\]  25%  50\.0 MiB/200\.0 MiB  2\d MB/s  ETA 6s`)
	if !re.MatchString(buf.String()) {
		t.Errorf("progress line %q does not match %v", buf.String(), re)
	}
	buf.Reset()
	b.update(analysis.Progress{File: "-", Files: 1, Done: 1 << 20, Total: -1})
	if !regexp.MustCompile(`^\r1\.0 MiB read  \d+ MB/s`).MatchString(buf.String()) {
		t.Errorf("stdin progress line %q", buf.String())
	}
	b.finish()
	if !bytes.HasSuffix(buf.Bytes(), []byte("\r")) {
		t.Error("finish does not clear the line")
	}
}
