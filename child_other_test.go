//go:build !linux

package main

import "os/exec"

// childCommand is exec.Command; only Linux can tie a child's life to the
// test binary's (see child_linux_test.go).
func childCommand(name string, args ...string) *exec.Cmd { return exec.Command(name, args...) }
