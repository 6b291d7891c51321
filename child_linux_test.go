package main

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// childCommand is exec.Command for a process the test starts and must not
// outlive: the kernel kills it when the test binary dies. A test that go
// test's -timeout ends (a panic, no deferred clean-up) otherwise leaves its
// children running: an `import /dev/zero` then burns a core until someone
// kills it.
func childCommand(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	return cmd
}

// TestChildDiesWithTest runs this test binary as a parent that starts
// `sleep` through childCommand, prints its pid and exits without waiting:
// the sleep must be gone soon after.
func TestChildDiesWithTest(t *testing.T) {
	if os.Getenv("FLOWSLEUTH_CHILD_PARENT") == "1" {
		cmd := childCommand("sleep", "60")
		if err := cmd.Start(); err != nil {
			os.Exit(2)
		}
		fmt.Println(cmd.Process.Pid)
		os.Exit(0)
	}
	parent := exec.Command(os.Args[0], "-test.run=^TestChildDiesWithTest$")
	parent.Env = append(os.Environ(), "FLOWSLEUTH_CHILD_PARENT=1")
	out, err := parent.Output()
	if err != nil {
		t.Fatalf("parent: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil {
		t.Fatalf("parent printed %q", out)
	}
	for deadline := time.Now().Add(10 * time.Second); ; {
		// Signal 0 finds a zombie too: look at its state instead.
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil || strings.Contains(string(stat), ") Z ") {
			return
		}
		if time.Now().After(deadline) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("child %d still running 10 s after its parent exited", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
