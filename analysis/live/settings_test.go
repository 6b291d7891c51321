package live_test

import (
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/flowsleuth/flowsleuth/analysis/live"
	"github.com/flowsleuth/flowsleuth/ingest/listen"
)

func flag(s live.Setting) string { return "--" + string(s) }

// TestSettingsRefused: each refusal names the setting at fault, in the
// CLI's words (Describe with flags) and the app's (Error, with labels).
func TestSettingsRefused(t *testing.T) {
	dir := t.TempDir()
	pem := filepath.Join(dir, "c.pem")
	if err := os.WriteFile(pem, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "none.pem")
	tests := []struct {
		Name     string
		In       live.Settings
		Setting  live.Setting
		CLI, App string // substrings of Describe(flag) and Error()
		Is       error
	}{
		{"no sender", live.Settings{TCP: ":0"}, live.SettingAllow, "no sender is allowed", "no sender is allowed", listen.ErrNoAllowlist},
		{"empty allowlist", live.Settings{TCP: ":0", Allow: " , "}, live.SettingAllow, "no sender", "no sender", listen.ErrNoAllowlist},
		{"bad allowlist", live.Settings{TCP: ":0", Allow: "10.0.0.0/33"}, live.SettingAllow, "--allow: ", "Allowed senders: ", nil},
		{"bad monitored", live.Settings{TCP: ":0", AllowAny: true, Monitored: "nope"}, live.SettingMonitored, "--monitored: ", "Monitored set: ", nil},
		{"tls without key", live.Settings{TLS: ":0", Cert: pem, AllowAny: true}, live.SettingTLS,
			"--tls needs --cert and --key, and they need --tls", "TLS needs Certificate and Key", nil},
		{"key without tls", live.Settings{TCP: ":0", Cert: pem, Key: pem, AllowAny: true}, live.SettingTLS, "--tls needs", "TLS needs", nil},
		{"client CA without tls", live.Settings{TCP: ":0", ClientCA: pem, AllowAny: true}, live.SettingClientCA, "--client-ca needs --tls", "Client CAs needs TLS", nil},
		{"certificate missing", live.Settings{TLS: ":0", Cert: missing, Key: pem, AllowAny: true}, live.SettingCert,
			"--cert " + missing + ": no such file", "Certificate " + missing, fs.ErrNotExist},
		{"client CA missing", live.Settings{TLS: ":0", Cert: pem, Key: pem, ClientCA: missing, AllowAny: true}, live.SettingClientCA,
			"--client-ca " + missing, "Client CAs " + missing, fs.ErrNotExist},
		{"no transport", live.Settings{AllowAny: true}, live.SettingUDP, "choose at least one of --udp, --tcp and --tls",
			"choose at least one of UDP, TCP and TLS", nil},
		{"negative queue", live.Settings{TCP: ":0", AllowAny: true, Queue: -1}, "queue", "--queue: must not be negative", "queue", nil},
		{"negative flush", live.Settings{TCP: ":0", AllowAny: true, FlushEvery: -1}, "flush", "--flush: must not be negative", "flush", nil},
	}
	for _, tc := range tests {
		t.Run(tc.Name, func(t *testing.T) {
			_, _, err := tc.In.Config()
			var se *live.SettingsError
			if !errors.As(err, &se) {
				t.Fatalf("Config() = %v, want a *SettingsError", err)
			}
			if se.Setting != tc.Setting {
				t.Errorf("setting %q, want %q", se.Setting, tc.Setting)
			}
			if got := se.Describe(flag); !strings.Contains(got, tc.CLI) {
				t.Errorf("Describe(flag) = %q, want %q in it", got, tc.CLI)
			}
			if got := se.Error(); !strings.Contains(got, tc.App) {
				t.Errorf("Error() = %q, want %q in it", got, tc.App)
			}
			if tc.Is != nil && !errors.Is(err, tc.Is) {
				t.Errorf("errors.Is(%v, %v) = false", err, tc.Is)
			}
		})
	}
}

// TestSettingsConfig: accepted settings become the listener's config, with
// the defaults and warnings both front ends share.
func TestSettingsConfig(t *testing.T) {
	def := fmt.Sprintf(":%d", listen.DefaultPort())
	tests := []struct {
		Name          string
		In            live.Settings
		UDP, TCP      string
		Allow         []netip.Prefix
		Archive       string
		UDPWarning    bool
		PortWarning   bool
		WantMonitored int
	}{
		{"tcp with an allowlist", live.Settings{TCP: "127.0.0.1:0", Allow: "10.0.0.0/24, 192.0.2.7", Workspace: "/w/lab.flowsleuth"},
			"", "127.0.0.1:0", []netip.Prefix{netip.MustParsePrefix("10.0.0.0/24"), netip.MustParsePrefix("192.0.2.7/32")},
			"/w/lab.archive", false, false, 0},
		{"udp with an allowlist warns", live.Settings{UDP: ":0", Allow: "10.0.0.1", Archive: "/a", Monitored: "10.1.0.0/16"},
			":0", "", []netip.Prefix{netip.MustParsePrefix("10.0.0.1/32")}, "/a", true, false, 1},
		{"udp from anyone: nothing to warn of", live.Settings{UDP: ":0", AllowAny: true, Archive: "/a"}, ":0", "", nil, "/a", false, false, 0},
		{"defaults", live.Settings{Defaults: true, Allow: "10.0.0.1", Workspace: "w.flowsleuth"}, def, def,
			[]netip.Prefix{netip.MustParsePrefix("10.0.0.1/32")}, "w.archive", true, def != ":514", 0},
	}
	for _, tc := range tests {
		t.Run(tc.Name, func(t *testing.T) {
			cfg, warnings, err := tc.In.Config()
			if err != nil {
				t.Fatal(err)
			}
			l := cfg.Listen
			if l.UDP != tc.UDP || l.TCP != tc.TCP || l.Archive != tc.Archive || !slices.Equal(l.Allow, tc.Allow) {
				t.Errorf("udp %q tcp %q archive %q allow %v, want %q %q %q %v", l.UDP, l.TCP, l.Archive, l.Allow,
					tc.UDP, tc.TCP, tc.Archive, tc.Allow)
			}
			if len(cfg.Model.Monitored) != tc.WantMonitored {
				t.Errorf("monitored %v, want %d prefixes", cfg.Model.Monitored, tc.WantMonitored)
			}
			if got := slices.Contains(warnings, live.UDPWarning); got != tc.UDPWarning {
				t.Errorf("UDP warning %v, want %v: %q", got, tc.UDPWarning, warnings)
			}
			port := slices.ContainsFunc(warnings, func(w string) bool { return strings.Contains(w, "port 514 is privileged") })
			if port != tc.PortWarning {
				t.Errorf("port warning %v, want %v: %q", port, tc.PortWarning, warnings)
			}
		})
	}
}
