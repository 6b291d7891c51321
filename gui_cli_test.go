package main

import (
	"runtime"
	"strings"
	"testing"
)

func TestGUIWithoutDisplay(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("X11 builds only")
	}
	t.Setenv("DISPLAY", "")
	code, _, errOut := flowsleuth(t, "", "gui")
	if code != exitFailure || !strings.Contains(errOut, "no display") {
		t.Errorf("gui without a display: exit %d, %q", code, errOut)
	}
	if code, _, errOut := flowsleuth(t, "", "gui", "--size", "10x10"); code != exitUsage || !strings.Contains(errOut, "--size") {
		t.Errorf("gui --size 10x10: exit %d, %q", code, errOut)
	}
}
