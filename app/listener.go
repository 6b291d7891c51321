package app

import (
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/flowsleuth/flowsleuth/analysis/live"
	"github.com/flowsleuth/flowsleuth/app/chart"
	"github.com/flowsleuth/flowsleuth/app/message"
	"github.com/flowsleuth/flowsleuth/export"
	"github.com/flowsleuth/flowsleuth/ingest/listen"
	"github.com/flowsleuth/flowsleuth/ingest/printable"
)

// Listener view refresh rates.
const (
	statsEvery  = time.Second      // counters and the msg/s line
	reloadEvery = 10 * time.Second // views re-read the workspace at most this often while listening
)

// listenerView runs the built-in syslog server into the workspace and
// shows its live figures.
type listenerView struct {
	sh      *shell
	content fyne.CanvasObject

	udpOn, tcpOn, tlsOn *widget.Check
	udp, tcp, tls       *widget.Entry
	cert, key, clientCA *widget.Entry
	allow               *widget.Entry
	allowAny            *widget.Check
	archive             *widget.Entry
	button              *widget.Button
	alert               *widget.Label // the archive cannot be written: nothing is accepted
	state               *widget.Label
	rate                *chart.Sparkline
	counters            *widget.Label
	senders             *dataTable
	rejected            *widget.Label

	// UI goroutine only.
	rows []listen.SenderStats

	mu         sync.Mutex
	sess       *live.Session
	stopTicker chan struct{}
	lastReload time.Time
	// onStats is called after each stats update, for tests.
	onStats func(live.Stats)
}

var senderHeaders = []string{"Sender", "Messages", "Bytes", "Malformed", "Oversize", "Last seen"}

// Preference keys of the listener form: what was last started with.
const (
	prefListenOn    = "listener.on" // "udp,tcp,tls": the transports ticked
	prefListenUDP   = "listener.udp"
	prefListenTCP   = "listener.tcp"
	prefListenTLS   = "listener.tls"
	prefListenCert  = "listener.cert"
	prefListenKey   = "listener.key"
	prefListenCA    = "listener.clientca"
	prefListenAllow = "listener.allow"
)

func newListenerView(sh *shell) *listenerView {
	v := &listenerView{sh: sh}
	port := listen.DefaultPort() // the CLI's rule: 514 when this process may bind it, else 5514
	v.udpOn = widget.NewCheck("UDP", nil)
	v.udpOn.SetChecked(true)
	v.udp = widget.NewEntry()
	v.udp.SetText(fmt.Sprintf(":%d", port))
	v.tcpOn = widget.NewCheck("TCP", nil)
	v.tcpOn.SetChecked(true)
	v.tcp = widget.NewEntry()
	v.tcp.SetText(fmt.Sprintf(":%d", port))
	v.tlsOn = widget.NewCheck("TLS", nil)
	v.tls = widget.NewEntry()
	v.tls.SetText(":6514")
	v.cert = widget.NewEntry()
	v.cert.SetPlaceHolder("server certificate (PEM file)")
	v.key = widget.NewEntry()
	v.key.SetPlaceHolder("its private key (PEM file)")
	v.clientCA = widget.NewEntry()
	v.clientCA.SetPlaceHolder("optional: CAs of sender certificates (PEM)")
	v.allow = widget.NewEntry()
	v.allow.SetPlaceHolder("e.g. 10.0.0.0/24, 192.168.1.15")
	v.allowAny = widget.NewCheck("Accept every sender (unsafe)", nil)
	v.archive = widget.NewEntry()
	v.archive.SetPlaceHolder("default: NAME.archive beside the workspace")
	v.button = widget.NewButtonWithIcon("Start listening", theme.MediaPlayIcon(), v.toggle)
	v.button.Importance = widget.HighImportance
	v.restore()
	hint := widget.NewLabel(fmt.Sprintf("Point Prism Central's or ESXi's syslog target at this machine (port %d). "+
		"Only the allowed senders are accepted: a line injected by anyone else would become a rule. "+
		"Every message is archived before it is counted. "+
		"UDP cannot prove who sent a datagram (its source address can be forged): conversations seen only "+
		"over UDP are listed for review, not made into rules. TCP proves the address; TLS with client CAs "+
		"proves the sender.", port))
	hint.Wrapping = fyne.TextWrapWord
	form := widget.NewForm(
		widget.NewFormItem("", hint),
		widget.NewFormItem("", container.NewBorder(nil, nil, v.udpOn, nil, v.udp)),
		widget.NewFormItem("", container.NewBorder(nil, nil, v.tcpOn, nil, v.tcp)),
		widget.NewFormItem("", container.NewBorder(nil, nil, v.tlsOn, nil, v.tls)),
		widget.NewFormItem("Certificate", v.cert),
		widget.NewFormItem("Key", v.key),
		widget.NewFormItem("Client CAs", v.clientCA),
		widget.NewFormItem("Allowed senders", v.allow),
		widget.NewFormItem("", v.allowAny),
		widget.NewFormItem("Archive folder", v.archive),
		widget.NewFormItem("", v.button),
	)
	v.alert = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	v.alert.Importance = widget.DangerImportance
	v.alert.Wrapping = fyne.TextWrapWord
	v.alert.Hide()
	v.state = widget.NewLabelWithStyle("Stopped.", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	v.state.Wrapping = fyne.TextWrapWord
	v.rate = chart.NewSparkline()
	v.rate.Unit = "msg/s"
	v.counters = widget.NewLabel("")
	v.counters.TextStyle.Monospace = true
	v.senders = newDataTable(senderHeaders, []float32{160, 100, 100, 90, 90, 160},
		func() int { return len(v.rows) }, v.senderCell)
	v.rejected = widget.NewLabel("")
	v.rejected.Wrapping = fyne.TextWrapWord
	ratePanel := container.NewBorder(widget.NewLabelWithStyle("Messages per second", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		nil, nil, nil, v.rate)
	// The counters keep their own width beside the sparkline: in a grid
	// each column would take the widest cell, and the content would grow
	// past the window as soon as they fill (1280 → 1510 px).
	top := container.NewBorder(nil, nil, nil, v.counters, ratePanel)
	right := container.NewBorder(container.NewVBox(v.alert, v.state, top), nil, nil, nil,
		container.NewVSplit(v.senders, container.NewVScroll(v.rejected)))
	split := container.NewHSplit(container.NewVScroll(form), right)
	split.Offset = 0.38
	v.content = split
	return v
}

// restore fills the form with what the last successful start used.
func (v *listenerView) restore() {
	p := v.sh.app.Preferences()
	if on := p.String(prefListenOn); on != "" {
		v.udpOn.SetChecked(strings.Contains(on, "udp"))
		v.tcpOn.SetChecked(strings.Contains(on, "tcp"))
		v.tlsOn.SetChecked(strings.Contains(on, "tls"))
	}
	for key, e := range v.remembered() {
		if s := p.String(key); s != "" {
			e.SetText(s)
		}
	}
}

// remembered are the entries kept between runs, by preference key.
func (v *listenerView) remembered() map[string]*widget.Entry {
	return map[string]*widget.Entry{prefListenUDP: v.udp, prefListenTCP: v.tcp, prefListenTLS: v.tls,
		prefListenCert: v.cert, prefListenKey: v.key, prefListenCA: v.clientCA, prefListenAllow: v.allow}
}

// remember keeps the form for the next run (after a successful start).
func (v *listenerView) remember() {
	p := v.sh.app.Preferences()
	var on []string
	for _, x := range []struct {
		name string
		c    *widget.Check
	}{{"udp", v.udpOn}, {"tcp", v.tcpOn}, {"tls", v.tlsOn}} {
		if x.c.Checked {
			on = append(on, x.name)
		}
	}
	p.SetString(prefListenOn, strings.Join(on, ","))
	for key, e := range v.remembered() {
		p.SetString(key, strings.TrimSpace(e.Text))
	}
}

func (v *listenerView) senderCell(row, col int) string {
	s := &v.rows[row]
	switch col {
	case 0:
		if !s.Addr.IsValid() {
			return "(others)"
		}
		return s.Addr.String()
	case 1:
		return thousands64(s.Messages)
	case 2:
		return export.HumanBytes(uint64(max(s.Bytes, 0)))
	case 3:
		return thousands64(s.Malformed)
	case 4:
		return thousands64(s.Oversize)
	case 5:
		return when(s.LastSeen)
	}
	return ""
}

// config reads the form; live.Settings checks it as it checks the CLI's
// flags. The warnings go to the status line once listening.
func (v *listenerView) config() (live.Config, []string, error) {
	p := v.sh.Project()
	if p == nil {
		return live.Config{}, nil, errNoWorkspace
	}
	s := live.Settings{Allow: v.allow.Text, AllowAny: v.allowAny.Checked, SyslogLibrary: true, // as the CLI by default
		Archive: strings.TrimSpace(v.archive.Text), Workspace: p.Path()}
	if v.udpOn.Checked {
		s.UDP = strings.TrimSpace(v.udp.Text)
	}
	if v.tcpOn.Checked {
		s.TCP = strings.TrimSpace(v.tcp.Text)
	}
	if v.tlsOn.Checked { // the TLS files stay in the form when TLS is off
		s.TLS, s.ClientCA = strings.TrimSpace(v.tls.Text), strings.TrimSpace(v.clientCA.Text)
		s.Cert, s.Key = strings.TrimSpace(v.cert.Text), strings.TrimSpace(v.key.Text)
	}
	cfg, warnings, err := s.Config()
	cfg.Workspace = p.Workspace()
	return cfg, warnings, err
}

func (v *listenerView) toggle() {
	v.mu.Lock()
	running := v.sess != nil
	v.mu.Unlock()
	if running {
		v.button.Disable()
		v.sh.background(func() {
			v.stop()
			v.sh.do(func() { v.button.Enable() })
			v.sh.reload()
		})
		return
	}
	cfg, warnings, err := v.config()
	if err != nil {
		v.sh.showErrorNow(err)
		return
	}
	v.button.Disable()
	v.sh.background(func() {
		err := v.start(cfg, warnings)
		v.sh.do(func() {
			v.button.Enable()
			if err != nil {
				v.sh.showErrorNow(err)
			}
		})
	})
}

// start runs a session and its stats ticker, and shows the settings'
// warnings beside its state; off the UI goroutine.
func (v *listenerView) start(cfg live.Config, warnings []string) error {
	sess, err := live.Start(v.sh.ctx, cfg)
	if err != nil {
		return err
	}
	stop := make(chan struct{})
	v.mu.Lock()
	v.sess, v.stopTicker = sess, stop
	v.mu.Unlock()
	sess.OnFlush(v.flushed)
	a := sess.Addrs()
	var on []string
	for _, x := range []struct {
		name string
		addr net.Addr
	}{{"udp", a.UDP}, {"tcp", a.TCP}, {"tls", a.TLS}} {
		if x.addr != nil {
			on = append(on, x.name+" "+x.addr.String())
		}
	}
	state := "Listening on " + strings.Join(on, ", ") + " · archive " + cfg.Listen.Archive
	notes := ""
	for _, w := range warnings {
		notes += "\nNote: " + w
	}
	v.sh.do(func() {
		v.state.SetText(state + notes)
		v.button.SetText("Stop listening")
		v.button.SetIcon(theme.MediaStopIcon())
		v.sh.status.SetText(state) // replaces an error of an earlier attempt
		v.remember()
	})
	v.sh.background(func() {
		t := time.NewTicker(statsEvery)
		defer t.Stop()
		for {
			v.tick(sess, state, notes)
			select {
			case <-stop:
				return
			case <-v.sh.ctx.Done():
				return
			case <-t.C:
			}
		}
	})
	return nil
}

// tick shows the session's figures; the snapshot is taken off the UI goroutine.
func (v *listenerView) tick(sess *live.Session, state, notes string) {
	st := sess.Stats()
	counters := statsText(&st)
	flush := "not flushed yet"
	if !st.LastFlush.IsZero() {
		flush = fmt.Sprintf("last flush %s ago", time.Since(st.LastFlush).Round(time.Second))
	}
	if st.FlushErr != nil {
		m := message.For(st.FlushErr)
		flush = "flush failed: " + m.Title + ": " + m.Text
	}
	var rej strings.Builder
	if len(st.RejectedBy) > 0 {
		rej.WriteString("Rejected senders (not in the allowlist):\n")
		for _, r := range st.RejectedBy {
			fmt.Fprintf(&rej, "  %s: %s or connections, last %s\n", r.Addr, plural64(uint64(max(r.Rejected, 0)), "message"), when(r.LastSeen))
		}
	}
	if len(st.MalformedLines) > 0 {
		rej.WriteString("Malformed messages (samples):\n")
		for _, m := range st.MalformedLines {
			fmt.Fprintf(&rej, "  %s\n", m)
		}
	}
	alert := archiveAlert(&st)
	v.sh.do(func() {
		if alert != "" {
			v.alert.SetText(alert)
			v.alert.Show()
		} else {
			v.alert.Hide()
		}
		v.state.SetText(state + " · " + flush + notes)
		v.rate.Push(st.Rate)
		v.counters.SetText(counters)
		v.rows = st.Senders
		v.senders.Refresh()
		v.rejected.SetText(printable.Text(rej.String()))
		if v.onStats != nil {
			v.onStats(st)
		}
	})
}

// archiveAlert is the banner of a listener whose archive cannot be
// written ("" when it can): it accepts nothing until it can again.
func archiveAlert(st *live.Stats) string {
	if !st.ArchiveDown {
		return ""
	}
	return fmt.Sprintf("The archive cannot be written since %s (%s): no message is accepted until it can — "+
		"TCP senders are held back, %s UDP datagrams dropped so far. Free space in the archive folder.",
		st.ArchiveDownSince.Format("15:04:05"), printable.Field(st.ArchiveErr), thousands64(st.ArchiveDropped))
}

// statsText renders the counters.
func statsText(st *live.Stats) string {
	text := fmt.Sprintf("received   %12s   parsed      %12s\n"+
		"archived   %12s   skipped     %12s\n"+
		"rejected   %12s   malformed   %12s\n"+
		"dropped    %12s   kernel drop %12s\n"+
		"oversize   %12s   connections %12d\n"+
		"archive    %12s   rcvbuf      %12s",
		thousands64(st.Received), thousands64(st.Parsed), thousands64(st.Accepted), thousands64(st.Skipped+st.Unsupported),
		thousands64(st.Rejected), thousands64(st.Malformed), thousands64(st.Dropped), thousands64(st.KernelDrops),
		thousands64(st.Oversize), st.OpenConns, export.HumanBytes(uint64(max(st.ArchiveBytes, 0))),
		export.HumanBytes(uint64(max(st.RcvBufGranted, 0))))
	if st.Uncompressed > 0 { // compression waits while messages arrive fast
		text += fmt.Sprintf("\n%d closed archive segments to gzip", st.Uncompressed)
	}
	return text
}

// flushed reloads the views after a workspace commit, at most every reloadEvery.
func (v *listenerView) flushed() {
	v.mu.Lock()
	due := time.Since(v.lastReload) >= reloadEvery
	if due {
		v.lastReload = time.Now()
	}
	v.mu.Unlock()
	if due {
		v.sh.reload()
	}
}

// stop ends the session with a final flush; safe to call when stopped.
func (v *listenerView) stop() {
	v.mu.Lock()
	sess, stop := v.sess, v.stopTicker
	v.sess, v.stopTicker = nil, nil
	v.mu.Unlock()
	if sess == nil {
		return
	}
	close(stop)
	err := sess.Stop()
	v.sh.do(func() {
		v.state.SetText("Stopped.")
		v.button.SetText("Start listening")
		v.button.SetIcon(theme.MediaPlayIcon())
	})
	v.sh.showError(err)
}
