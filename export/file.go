package export

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// WriteFile writes a file whole or not at all: through a temporary file in
// the same directory, renamed into place only when write and the flush
// succeeded, so a failed or interrupted export never leaves a partial file
// that looks complete. The file gets mode 0644.
//
// Its errors name path once, never the temporary file: a failure of the
// file system is an *fs.PathError for path ("write PATH: no space left on
// device"); any other error of write comes wrapped as "write PATH: …".
func WriteFile(path string, write func(*bufio.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return named(path, err)
	}
	defer os.Remove(tmp.Name())
	w := bufio.NewWriterSize(namedFile{tmp, path}, 1<<20)
	if err := write(w); err != nil {
		tmp.Close()
		return named(path, err)
	}
	if err := w.Flush(); err != nil {
		tmp.Close()
		return named(path, err)
	}
	if err := tmp.Chmod(0o644); err != nil { // CreateTemp makes it 0600
		tmp.Close()
		return named(path, err)
	}
	if err := tmp.Close(); err != nil {
		return named(path, err)
	}
	return named(path, os.Rename(tmp.Name(), path))
}

// namedFile is the temporary file, whose write errors name the file it
// becomes.
type namedFile struct {
	f    *os.File
	path string
}

func (n namedFile) Write(p []byte) (int, error) {
	k, err := n.f.Write(p)
	return k, named(n.path, err)
}

// named returns err naming path once: the file system's errors about the
// temporary file become an *fs.PathError of path, with the same cause; an
// error that names path already is returned as it is; any other is
// wrapped with it.
func named(path string, err error) error {
	if err == nil {
		return nil
	}
	var pe *fs.PathError
	if errors.As(err, &pe) && pe.Path == path {
		return err
	}
	switch e := err.(type) {
	case *fs.PathError:
		if isTemp(path, e.Path) {
			return &fs.PathError{Op: "write", Path: path, Err: e.Err}
		}
	case *os.LinkError:
		if isTemp(path, e.Old) {
			return &fs.PathError{Op: "write", Path: path, Err: e.Err}
		}
	}
	return fmt.Errorf("write %s: %w", path, err)
}

// isTemp reports whether name is one of WriteFile's temporary files for
// path (or the pattern CreateTemp reports).
func isTemp(path, name string) bool {
	return filepath.Dir(name) == filepath.Dir(path) && strings.HasPrefix(filepath.Base(name), "."+filepath.Base(path)+".")
}
