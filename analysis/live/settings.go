package live

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/flowsleuth/flowsleuth/analysis"
	"github.com/flowsleuth/flowsleuth/ingest"
	"github.com/flowsleuth/flowsleuth/ingest/listen"
)

// Settings are a listener's settings as a person gives them, in the CLI's
// flags or the app's form. Config checks them, once for both: who may
// send, on which transports, with which TLS files, and what to warn about.
type Settings struct {
	UDP, TCP, TLS string // addresses, host:port; "" turns a transport off
	// Defaults listens, when UDP, TCP and TLS are all "", on UDP and TCP at
	// listen.DefaultPort (the CLI without flags); without it that is an
	// error (the app's form, with every transport unticked).
	Defaults bool

	Cert, Key, ClientCA string // TLS files (PEM); ClientCA is optional

	Allow     string // senders accepted: IPs and CIDRs separated by commas or spaces
	AllowAny  bool   // accept every sender (a trusted network only)
	Monitored string // the monitored set, same syntax ("" = learned)

	Archive   string // archive directory ("" = DefaultArchive(Workspace))
	Workspace string // the workspace file, for the default archive

	MaxMessage, MaxConns, Queue, ReadBuffer int           // 0 = listen's default
	ConnIdle                                time.Duration // 0 = listen's default
	SegmentSize                             int64         // 0 = listen's default
	SegmentAge, FlushEvery                  time.Duration // 0 = the defaults
	SyslogLibrary                           bool          // read headers with go-syslog
}

// Setting names one of the Settings, as the CLI's flag without its dashes.
type Setting string

// The settings an error can be about.
const (
	SettingUDP       Setting = "udp"
	SettingTCP       Setting = "tcp"
	SettingTLS       Setting = "tls"
	SettingCert      Setting = "cert"
	SettingKey       Setting = "key"
	SettingClientCA  Setting = "client-ca"
	SettingAllow     Setting = "allow"
	SettingAllowAny  Setting = "allow-any"
	SettingMonitored Setting = "monitored"
)

// Label is the setting's name for people, as the app's form calls it.
func (s Setting) Label() string {
	switch s {
	case SettingUDP, SettingTCP, SettingTLS:
		return strings.ToUpper(string(s))
	case SettingCert:
		return "Certificate"
	case SettingKey:
		return "Key"
	case SettingClientCA:
		return "Client CAs"
	case SettingAllow:
		return "Allowed senders"
	case SettingAllowAny:
		return "Accept every sender"
	case SettingMonitored:
		return "Monitored set"
	}
	return string(s)
}

// problem is what is wrong with a setting.
type problem int

const (
	noSender   problem = iota // neither an allowlist nor allow-any
	badList                   // a list of addresses that does not parse (Err)
	tlsFiles                  // TLS without a certificate and key, or them without TLS
	caNeedsTLS                // client CAs without TLS
	noAddress                 // no transport at all
	badFile                   // a TLS file that cannot be read (Err)
	negative                  // a size or duration below zero (Err names it)
)

// SettingsError is a listener setting refused by Settings.Config.
type SettingsError struct {
	Setting Setting // the setting at fault
	Err     error   // the cause, for a list that does not parse or a file that cannot be read
	problem problem
}

// Error describes the problem with the settings' labels.
func (e *SettingsError) Error() string { return e.Describe(Setting.Label) }

// Unwrap returns the cause, if any; listen.ErrNoAllowlist when no sender
// is allowed.
func (e *SettingsError) Unwrap() error {
	if e.problem == noSender {
		return listen.ErrNoAllowlist
	}
	return e.Err
}

// Describe says what is wrong, naming settings with name: the CLI names
// its flags ("--allow"), the app its form fields.
func (e *SettingsError) Describe(name func(Setting) string) string {
	switch e.problem {
	case noSender:
		return "no sender is allowed: lines from other senders would become firewall rules"
	case tlsFiles:
		return fmt.Sprintf("%s needs %s and %s, and they need %s", name(SettingTLS), name(SettingCert), name(SettingKey), name(SettingTLS))
	case caNeedsTLS:
		return fmt.Sprintf("%s needs %s", name(SettingClientCA), name(SettingTLS))
	case noAddress:
		return fmt.Sprintf("choose at least one of %s, %s and %s", name(SettingUDP), name(SettingTCP), name(SettingTLS))
	case badFile:
		var pe *fs.PathError
		if errors.As(e.Err, &pe) {
			return fmt.Sprintf("%s %s: %v", name(e.Setting), pe.Path, pe.Err)
		}
	}
	return fmt.Sprintf("%s: %v", name(e.Setting), e.Err)
}

// Hint says what to do, naming settings with name (see Describe).
func (e *SettingsError) Hint(name func(Setting) string) string {
	switch e.problem {
	case noSender:
		return fmt.Sprintf("List the ESXi and AHV hosts in %s, or use %s on a trusted network only.", name(SettingAllow), name(SettingAllowAny))
	case badList:
		return "Write IPs or CIDRs, separated by commas: 10.0.0.0/24, 192.0.2.7."
	case tlsFiles, badFile:
		return "TLS needs the server's certificate and its private key, as PEM files."
	}
	return ""
}

// UDPWarning is the warning of a listener that accepts UDP by an
// allowlist: the allowlist cannot authenticate UDP.
const UDPWarning = "the allowlist cannot authenticate UDP: anyone who reaches the port can forge an allowed " +
	"source address, so conversations seen only over UDP are listed for review, not made into rules " +
	"(TCP proves the address; TLS with client CAs proves the sender)"

// Config checks s and returns the session's configuration (without its
// workspace, which the caller opens), with warnings for people: the
// port the defaults fell back to, UDP's allowlist. Refused settings
// return a *SettingsError.
func (s Settings) Config() (Config, []string, error) {
	var warn []string
	if err := s.check(); err != nil {
		return Config{}, nil, err
	}
	allow, err := analysis.ParsePeers(s.Allow)
	if err != nil {
		return Config{}, nil, &SettingsError{Setting: SettingAllow, Err: err, problem: badList}
	}
	if !s.AllowAny && len(allow) == 0 {
		return Config{}, nil, &SettingsError{Setting: SettingAllow, problem: noSender}
	}
	mon, err := analysis.ParsePeers(s.Monitored)
	if err != nil {
		return Config{}, nil, &SettingsError{Setting: SettingMonitored, Err: err, problem: badList}
	}
	udp, tcp := s.UDP, s.TCP
	if udp == "" && tcp == "" && s.TLS == "" {
		if !s.Defaults {
			return Config{}, nil, &SettingsError{Setting: SettingUDP, problem: noAddress}
		}
		port := listen.DefaultPort()
		if port != 514 {
			warn = append(warn, fmt.Sprintf("port 514 is privileged (run as root, or grant the binary "+
				"CAP_NET_BIND_SERVICE: sudo setcap cap_net_bind_service=+ep %s); listening on %d instead: "+
				"point the hosts' syslog target at port %d", os.Args[0], port, port))
		}
		udp, tcp = fmt.Sprintf(":%d", port), fmt.Sprintf(":%d", port)
	}
	if udp != "" && !s.AllowAny {
		warn = append(warn, UDPWarning)
	}
	archive := s.Archive
	if archive == "" {
		archive = DefaultArchive(s.Workspace)
	}
	return Config{
		Listen: listen.Config{UDP: udp, TCP: tcp, TLS: s.TLS, CertFile: s.Cert, KeyFile: s.Key, ClientCAFile: s.ClientCA,
			Allow: allow, AllowAny: s.AllowAny, MaxMessage: s.MaxMessage, MaxConns: s.MaxConns,
			ConnIdle: s.ConnIdle, ReadBuffer: s.ReadBuffer, Queue: s.Queue, Archive: archive,
			SegmentSize: s.SegmentSize, SegmentAge: s.SegmentAge, Parse: []ingest.Option{ingest.WithSyslogLibrary(s.SyslogLibrary)}},
		FlushEvery: s.FlushEvery,
		Model:      analysis.Options{Monitored: mon},
	}, warn, nil
}

// check refuses TLS settings that do not go together, TLS files that
// cannot be read and negative sizes.
func (s Settings) check() error {
	if (s.TLS != "") != (s.Cert != "" && s.Key != "") {
		return &SettingsError{Setting: SettingTLS, problem: tlsFiles}
	}
	if s.ClientCA != "" && s.TLS == "" {
		return &SettingsError{Setting: SettingClientCA, problem: caNeedsTLS}
	}
	for _, f := range []struct {
		s    Setting
		path string
	}{{SettingCert, s.Cert}, {SettingKey, s.Key}, {SettingClientCA, s.ClientCA}} {
		if f.path == "" {
			continue
		}
		if _, err := os.Stat(f.path); err != nil {
			return &SettingsError{Setting: f.s, Err: err, problem: badFile}
		}
	}
	for _, n := range []struct {
		name string
		v    int64
	}{{"max-message", int64(s.MaxMessage)}, {"max-conns", int64(s.MaxConns)}, {"queue", int64(s.Queue)},
		{"rcvbuf", int64(s.ReadBuffer)}, {"segment-size", s.SegmentSize}, {"conn-idle", int64(s.ConnIdle)},
		{"segment-age", int64(s.SegmentAge)}, {"flush", int64(s.FlushEvery)}} {
		if n.v < 0 {
			return &SettingsError{Setting: Setting(n.name), Err: errors.New("must not be negative"), problem: negative}
		}
	}
	return nil
}
