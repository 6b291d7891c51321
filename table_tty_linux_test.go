package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/sys/unix"
)

// TestTablesFitARealTerminal: standard output a terminal 100 columns wide
// (a pseudo-terminal, $COLUMNS unset) gets tables that fit it. The CLI
// writes its tables through an escaping writer (printable): the width must
// be asked of the terminal beneath it.
func TestTablesFitARealTerminal(t *testing.T) {
	tty := pseudoTerminal(t, 100)
	log := filepath.Join(t.TempDir(), "demo.log")
	flowsleuthOK(t, "demo", "--vendor", "nsxv", "--sessions", "3000", "--seed", "1", "--out", log)
	t.Setenv("COLUMNS", "")
	for _, cmd := range []string{"rules", "flows"} {
		var errb bytes.Buffer
		out := tty.capture(t, func(w *os.File) {
			if code := run([]string{cmd, "-q", log}, strings.NewReader(""), w, &errb); code != exitOK {
				t.Errorf("%s: exit %d: %s", cmd, code, errb.String())
			}
		})
		n := 0
		for _, l := range strings.Split(out, "\n") {
			n = max(n, utf8.RuneCountInString(strings.TrimRight(l, "\r")))
		}
		if n > 100 || !strings.Contains(out, "fitted to 100 columns") {
			t.Errorf("%s: a %d-character line in a 100-column terminal, or no note:\n%s", cmd, n, out)
		}
	}
}

// pty is a pseudo-terminal: what is written to slave is read from master.
type pty struct{ master, slave *os.File }

// pseudoTerminal opens a pseudo-terminal cols columns wide.
func pseudoTerminal(t *testing.T, cols uint16) *pty {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	t.Cleanup(func() { master.Close() })
	fd := int(master.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		t.Skipf("unlock the pseudo-terminal: %v", err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		t.Skipf("name the pseudo-terminal: %v", err)
	}
	slave, err := os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("open the pseudo-terminal: %v", err)
	}
	t.Cleanup(func() { slave.Close() })
	if err := unix.IoctlSetWinsize(int(slave.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Col: cols, Row: 50}); err != nil {
		t.Fatal(err)
	}
	return &pty{master, slave}
}

// capture runs fn writing to the terminal and returns what it wrote (the
// terminal's buffer is small: it is read while fn writes).
func (p *pty) capture(t *testing.T, fn func(w *os.File)) string {
	t.Helper()
	const end = "\x00END\x00" // written after fn's output: ends the read
	done := make(chan string)
	go func() {
		var b bytes.Buffer
		buf := make([]byte, 4096)
		for !bytes.Contains(b.Bytes(), []byte(end)) {
			n, err := p.master.Read(buf)
			b.Write(buf[:n])
			if err != nil && err != io.EOF {
				break
			}
		}
		done <- strings.TrimSuffix(b.String(), end)
	}()
	fn(p.slave)
	p.slave.WriteString(end)
	return <-done
}
