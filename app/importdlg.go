package app

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// importDialog is File → Import logs: any number of files, typed or
// pasted (one per line; a glob such as /var/log/flow.log* and a leading ~
// are expanded) or added with the file chooser, one after the other.
type importDialog struct {
	sh    *shell
	paths *widget.Entry
	d     *dialog.FormDialog
}

// newImportDialog makes the dialog; its Import button calls importFiles.
func newImportDialog(sh *shell, importFiles func(files []string)) *importDialog {
	id := &importDialog{sh: sh, paths: widget.NewMultiLineEntry()}
	id.paths.SetPlaceHolder("one file per line, e.g.\n/var/log/remote/flow.log*\n~/Downloads/dfwpktlogs-esx01.log.gz")
	id.paths.SetMinRowsVisible(6)
	id.paths.Validator = func(s string) error {
		_, err := expandPaths(s)
		return err
	}
	add := widget.NewButtonWithIcon("Add a file…", theme.FolderOpenIcon(), id.browse)
	hint := widget.NewLabel("Plain or gzipped syslog files, several at once: they are read in the order of their " +
		"first lines' times, whatever their names.")
	hint.Wrapping = fyne.TextWrapWord
	box := container.NewBorder(nil, container.NewBorder(nil, nil, add, nil), nil, nil, id.paths)
	id.d = dialog.NewForm("Import logs", "Import", "Cancel", []*widget.FormItem{
		widget.NewFormItem("", hint), widget.NewFormItem("Files", box)}, func(ok bool) {
		if !ok {
			return
		}
		if files, err := expandPaths(id.paths.Text); err == nil {
			importFiles(files)
		}
	}, sh.win)
	id.d.Resize(fyne.NewSize(720, id.d.MinSize().Height))
	return id
}

// browse adds a file from the file chooser to the list.
func (id *importDialog) browse() {
	id.sh.chooseFile(nil, func(path string) {
		text := strings.TrimRight(id.paths.Text, "\n")
		if text != "" {
			text += "\n"
		}
		id.paths.SetText(text + path)
	})
}

// expandPaths reads the dialog's list: one path per line (blank lines
// ignored), a leading ~ is the home directory, and a glob pattern stands
// for the files it matches. Every path must be a readable regular file.
func expandPaths(text string) ([]string, error) {
	var out []string
	for _, line := range strings.Split(text, "\n") {
		p := strings.TrimSpace(line)
		if p == "" {
			continue
		}
		if rest, ok := strings.CutPrefix(p, "~"); ok && (rest == "" || rest[0] == '/') {
			home, err := os.UserHomeDir()
			if err != nil {
				return nil, err
			}
			p = home + rest
		}
		matches := []string{p}
		if strings.ContainsAny(p, "*?[") {
			var err error
			if matches, err = filepath.Glob(p); err != nil || len(matches) == 0 {
				return nil, fmt.Errorf("%s: no such files", p)
			}
		}
		for _, m := range matches {
			st, err := os.Stat(m)
			switch {
			case err != nil:
				return nil, fmt.Errorf("%s: %w", m, errors.Unwrap(err))
			case st.IsDir():
				return nil, fmt.Errorf("%s is a folder: name its files (%s/*.log)", m, m)
			}
			if !slices.Contains(out, m) {
				out = append(out, m)
			}
		}
	}
	if len(out) == 0 {
		return nil, errors.New("name at least one file")
	}
	return out, nil
}
