package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"

	"github.com/flowsleuth/flowsleuth/analysis/workspace"
	"github.com/flowsleuth/flowsleuth/app"
	"github.com/flowsleuth/flowsleuth/assets"
)

// parseWindowSize reads --size WIDTHxHEIGHT; "" is the zero size (the
// last size, else the default).
func parseWindowSize(size string) (fyne.Size, error) {
	if size == "" {
		return fyne.Size{}, nil
	}
	w, h, ok := strings.Cut(size, "x")
	wi, err1 := strconv.Atoi(w)
	hi, err2 := strconv.Atoi(h)
	if !ok || err1 != nil || err2 != nil || wi < 320 || hi < 240 {
		return fyne.Size{}, usagef("--size must be WIDTHxHEIGHT, at least 320x240, not %q", size)
	}
	return fyne.NewSize(float32(wi), float32(hi)), nil
}

// appID identifies the app to Fyne (preferences live under it).
const appID = "io.github.flowsleuth"

func (c *cli) guiCmd(args []string) error {
	fs := c.newFlagSet("gui", "[flags] [FILE...]",
		"Opens the desktop app on a workspace: --workspace, else the last one opened, else the\n"+
			"default workspace when it exists, else a built-in demo workspace (made on first use).\n"+
			"FILEs given are imported into it, with the progress shown in the Sources view.")
	wsPath := fs.String("workspace", "", "workspace file to open")
	demoDir := fs.String("demo-dir", defaultDemoDir(), "where the built-in demo workspace lives")
	view := fs.String("view", "", "open on this view: overview, flows, rules, check, sources, listener or export")
	size := fs.String("size", "", "window size WIDTHxHEIGHT (default: the last size, else 1280x800)")
	probe := fs.String("latency-probe", "", "diagnostic: import this file (or, with \"idle\", wait --probe-idle) while\n"+
		"measuring the UI event loop's latency; print the percentiles and quit")
	themeName := fs.String("theme", "", "light, dark or system (default: the last choice, else the system's)")
	idle := fs.Duration("probe-idle", 10*time.Second, "diagnostic: how long --latency-probe idle measures")
	c.storeFlag(fs)
	openProbe := fs.Bool("open-probe", false, "diagnostic: time the opening of the workspace (Overview, Flows, rules), then\n"+
		"sorts and filters in Flows; print the times and quit")
	var prof guiProfiles
	fs.StringVar(&prof.cpu, "cpuprofile", "", "diagnostic: write a CPU profile of the run to this file")
	fs.StringVar(&prof.mem, "memprofile", "", "diagnostic: write a heap profile of the moment the heap was largest to this file")
	fs.StringVar(&prof.stats, "memstats", "", "diagnostic: write the resident memory and the Go runtime's memory classes at\n"+
		"the process's peak of resident memory to this file")
	var policies stringList
	fs.Var(&policies, "policy", "check this policy file in the Check view as the workspace opens (repeatable)")
	files, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if *wsPath, err = guiWorkspace(files, *wsPath); err != nil {
		return err
	}
	winSize, err := parseWindowSize(*size)
	if err != nil {
		return err
	}
	if err := haveDisplay(); err != nil {
		return err
	}
	stopProf, err := prof.start()
	if err != nil {
		return err
	}
	defer stopProf()
	def, _ := workspace.DefaultPath()
	a := fyneapp.NewWithID(appID)
	a.SetIcon(fyne.NewStaticResource("icon.png", assets.Icon))
	w := a.NewWindow("FlowSleuth")
	switch *themeName {
	case "", "light", "dark", "system":
	default:
		return usagef("--theme must be light, dark or system, not %q", *themeName)
	}
	u := app.New(a, w, app.Options{Version: version, DemoDir: *demoDir, DefaultWorkspace: def, Theme: *themeName,
		OpenStore: openStoreSource})
	w.SetContent(u.Content())
	if winSize.IsZero() {
		winSize = app.WindowSize(a)
	}
	w.Resize(winSize)
	if *view != "" && !u.SelectView(*view) {
		return usagef("unknown --view %q", *view)
	}
	w.SetCloseIntercept(func() {
		u.RememberSize()
		u.Shutdown()
		w.Close()
	})
	if *openProbe {
		u.ProbeOpen(func(r app.OpenReport) {
			fmt.Fprintf(c.stdout, "open: %s\n", r)
			fyne.Do(a.Quit)
		})
	}
	u.Start(*wsPath)
	c.afterGUILoad(u, a, files, policies, *probe, *idle)
	w.ShowAndRun()
	return nil
}

// guiWorkspace checks that the files given exist and says which workspace
// the app opens: wsPath, else, when files are given, the user's default
// workspace (never the demo), else "" (the app chooses).
func guiWorkspace(files []string, wsPath string) (string, error) {
	for _, f := range files {
		if _, err := os.Stat(f); err != nil {
			return wsPath, err
		}
	}
	if len(files) > 0 && wsPath == "" {
		return workspace.DefaultPath()
	}
	return wsPath, nil
}

// afterGUILoad queues what the command line asks of the app once the
// workspace is loaded: open a store, check policies, import files, and the
// latency probe (which quits the app when done).
func (c *cli) afterGUILoad(u *app.UI, a fyne.App, files []string, policies stringList, probe string, idle time.Duration) {
	if c.store != "" {
		u.AfterLoad(func() { u.OpenStore(c.store) })
	}
	if len(policies) > 0 {
		u.AfterLoad(func() { u.CheckPolicies(policies) })
	}
	if len(files) > 0 {
		u.AfterLoad(func() { u.Import(files) })
	}
	if probe != "" {
		u.AfterLoad(func() {
			var files []string
			if probe != "idle" {
				files = []string{probe}
			}
			u.ProbeLatency(files, idle, func(r app.LatencyReport) {
				fmt.Fprintf(c.stdout, "ui latency %s: %s\n", probe, r)
				if r.Err != nil {
					fmt.Fprintf(c.stderr, "flowsleuth gui: %v\n", r.Err)
				}
				fyne.Do(a.Quit)
			})
		})
	}
}

// haveDisplay fails clearly where there is no window system to open a
// window on (Fyne's driver would panic): an X11 build needs DISPLAY.
func haveDisplay() error {
	switch runtime.GOOS {
	case "linux", "freebsd", "openbsd", "netbsd", "dragonfly":
		if os.Getenv("DISPLAY") == "" {
			return errors.New("no display to open a window on (DISPLAY is not set): run it in a desktop " +
				"session, or use the commands that need none ('flowsleuth -h')")
		}
	}
	return nil
}

// defaultDemoDir is where `make run` and the app keep the demo workspace.
func defaultDemoDir() string {
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "flowsleuth", "demo")
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return filepath.Join(os.TempDir(), "flowsleuth-demo")
	}
	return filepath.Join(home, ".local", "share", "flowsleuth", "demo")
}
