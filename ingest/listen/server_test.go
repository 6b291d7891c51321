package listen

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flowsleuth/flowsleuth/ingest"
)

// recorder is a Handler that keeps copies of what it received.
type recorder struct {
	mu     sync.Mutex
	lines  []string // the raw messages, in order
	hosts  []string // the host of each event
	stats  ingest.Stats
	block  chan struct{} // when set, the handler waits on it
	ends   map[string]int64
	events int
}

func (r *recorder) handle(b *Batch) {
	if r.block != nil {
		<-r.block
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := range b.Events {
		r.lines = append(r.lines, string(b.Events[i].Raw))
		r.hosts = append(r.hosts, b.Events[i].Host)
	}
	r.events += len(b.Events)
	r.stats.Add(&b.Stats)
	if r.ends == nil {
		r.ends = make(map[string]int64)
	}
	r.ends[b.Segment] = b.End
}

func (r *recorder) snapshot() ([]string, ingest.Stats) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.lines...), r.stats
}

// start runs a server on loopback ports chosen by the kernel.
func start(t *testing.T, cfg Config, r *recorder) *Server {
	t.Helper()
	if cfg.UDP == "" && cfg.TCP == "" && cfg.TLS == "" {
		cfg.UDP, cfg.TCP = "127.0.0.1:0", "127.0.0.1:0"
	}
	if len(cfg.Allow) == 0 && !cfg.AllowAny {
		cfg.Allow = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	}
	cfg.Parse = append(cfg.Parse, ingest.WithSyslogLibrary(true))
	s, err := New(cfg, r.handle)
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { errc <- s.Run(context.Background()) }()
	t.Cleanup(func() {
		s.Close()
		if err := <-errc; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return s
}

// waitFor polls cond for up to 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func dial(t *testing.T, network string, a net.Addr) net.Conn {
	t.Helper()
	c, err := net.Dial(network, a.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

const (
	nsxLine = "<13>1 2024-05-15T19:41:25.001Z esx05 FIREWALL-PKTLOG - - - 8b4a1980 INET match PASS 3041 IN 52 TCP 10.0.0.1/40000->10.0.0.2/443 S SG1"
	ntxLine = "<134>Apr 10 10:12:51 ahv-1 flow-hitCount4: INFO:2025/04/10 10:12:51  [181fa82b-64c6-4eb7-844e-3329128cdff7] Discover-Traffic [New] SRC=10.20.20.22 DST=10.20.30.31 PROTO=TCP SPORT=60410 DPORT=3306 ACTION=MONITOR DIRECTION=OUTBOUND"
	badLine = "<134>Apr 10 10:12:51 ahv-1 flow-hitCount4: INFO:2025/04/10 10:12:51  [181fa82b-64c6-4eb7-844e-3329128cdff7] Discover-Traffic [New] SRC=10.20.20.999 DST=10.20.30.31 PROTO=TCP SPORT=60410 DPORT=3306 ACTION=MONITOR"
)

// TestMixedTransports sends RFC 5424 and RFC 3164 messages over UDP, TCP
// with LF framing and TCP with octet counting at once, and checks every
// message arrives once, is archived first, and is counted.
func TestMixedTransports(t *testing.T) {
	dir := t.TempDir()
	r := &recorder{}
	s := start(t, Config{Archive: dir}, r)
	const n = 200
	sendMixed(t, s.Addrs(), n)
	waitFor(t, "every message", func() bool { return s.Stats().Accepted == 5*n })
	st := s.Stats()
	lines, bs := r.snapshot()
	if got, want := len(lines), 4*n; got != want {
		t.Errorf("events: got %d, want %d", got, want)
	}
	if st.Parsed != 4*n || st.Malformed != n || bs.Malformed != n || bs.Events != 4*n {
		t.Errorf("buckets: parsed %d malformed %d (batches: %d, %d); want %d, %d", st.Parsed, st.Malformed,
			bs.Events, bs.Malformed, 4*n, n)
	}
	if st.Received != 5*n || st.Dropped != 0 || st.Rejected != 0 {
		t.Errorf("received %d dropped %d rejected %d", st.Received, st.Dropped, st.Rejected)
	}
	if len(st.Senders) != 1 || st.Senders[0].Malformed != n || !strings.Contains(st.Senders[0].Sample, "10.20.20.999") {
		t.Errorf("senders: %+v", st.Senders)
	}
	checkSegment(t, r, st, 5*n)
}

// sendMixed sends n rounds over TCP line by line, over TCP octet-counted
// (one good and one malformed message a round) and over UDP.
func sendMixed(t *testing.T, a Addrs, n int) {
	var wg sync.WaitGroup
	wg.Go(func() {
		c := dial(t, "tcp", a.TCP)
		for range n {
			fmt.Fprintf(c, "%s\n%s\n", nsxLine, ntxLine)
		}
	})
	wg.Go(func() {
		c := dial(t, "tcp", a.TCP)
		w := bufio.NewWriter(c)
		for range n {
			fmt.Fprintf(w, "%d %s%d %s", len(ntxLine), ntxLine, len(badLine), badLine)
		}
		w.Flush()
	})
	wg.Go(func() {
		c := dial(t, "udp", a.UDP)
		for range n {
			c.Write([]byte(nsxLine + "\n"))
			time.Sleep(50 * time.Microsecond) // pacing, not waiting: stay below the loopback socket's limits
		}
	})
	wg.Wait()
}

// checkSegment checks that the current archive segment holds the lines
// received, as many bytes as the stats say, and that the last batch ends
// where it does.
func checkSegment(t *testing.T, r *recorder, st Stats, lines int) {
	t.Helper()
	seg, err := os.ReadFile(st.Segment)
	if err != nil {
		t.Fatal(err)
	}
	if got := bytes.Count(seg, []byte("\n")); got != lines || int64(len(seg)) != st.ArchiveBytes {
		t.Errorf("archive: %d lines, %d bytes; want %d lines, %d bytes", got, len(seg), lines, st.ArchiveBytes)
	}
	if r.ends[st.Segment] != int64(len(seg)) {
		t.Errorf("last batch ends at %d, segment has %d bytes", r.ends[st.Segment], len(seg))
	}
}

// TestArchiveParity checks that the archive, imported as a file, gives the
// events received live.
func TestArchiveParity(t *testing.T) {
	dir := t.TempDir()
	r := &recorder{}
	s := start(t, Config{Archive: dir, TCP: "127.0.0.1:0"}, r)
	c := dial(t, "tcp", s.Addrs().TCP)
	msgs := []string{nsxLine, ntxLine, badLine, "not a firewall line", nsxLine + "\r\nsplit over two lines"}
	for _, m := range msgs {
		fmt.Fprintf(c, "%d %s", len(m), m)
	}
	waitFor(t, "the messages", func() bool { return s.Stats().Accepted == int64(len(msgs)) })
	if got := s.Stats().LineBreaks; got != 2 {
		t.Errorf("line breaks: got %d, want 2", got)
	}
	live, _ := r.snapshot()
	in, err := ingest.Open(s.Stats().Segment)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	var fromFile []string
	_, err = ingest.Read(context.Background(), in, "seg", func(b *ingest.Batch) error {
		for _, ev := range b.Events {
			fromFile = append(fromFile, string(ev.Raw))
		}
		return nil
	}, ingest.WithSyslogLibrary(true))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(live, "\n") != strings.Join(fromFile, "\n") || len(live) != 3 {
		t.Errorf("live %q\nfile %q", live, fromFile)
	}
}

// TestDefaultHost checks a bare payload is attributed to its sender.
func TestDefaultHost(t *testing.T) {
	r := &recorder{}
	s := start(t, Config{TCP: "127.0.0.1:0"}, r)
	c := dial(t, "tcp", s.Addrs().TCP)
	fmt.Fprintf(c, "%s\n", ntxLine[strings.Index(ntxLine, "INFO:"):])
	waitFor(t, "the message", func() bool { return s.Stats().Parsed == 1 })
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.hosts) != 1 || r.hosts[0] != "127.0.0.1" {
		t.Errorf("hosts: %q", r.hosts)
	}
}

// TestAllowlist checks refused senders are counted, per sender, over UDP
// and TCP, and that their messages go nowhere.
func TestAllowlist(t *testing.T) {
	r := &recorder{}
	s := start(t, Config{Allow: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}}, r)
	u := dial(t, "udp", s.Addrs().UDP)
	for i := 0; i < 3; i++ {
		u.Write([]byte(nsxLine))
	}
	c := dial(t, "tcp", s.Addrs().TCP)
	fmt.Fprintf(c, "%s\n", nsxLine)
	waitFor(t, "4 rejections", func() bool { return s.Stats().Rejected == 4 })
	// The TCP connection was closed at once.
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err == nil {
		t.Error("a refused connection stays open")
	}
	st := s.Stats()
	if st.Received != 0 || st.Accepted != 0 || len(st.Senders) != 0 {
		t.Errorf("refused messages were read: %+v", st)
	}
	if len(st.RejectedBy) != 1 || st.RejectedBy[0].Addr != netip.MustParseAddr("127.0.0.1") || st.RejectedBy[0].Rejected != 4 {
		t.Errorf("rejected senders: %+v", st.RejectedBy)
	}
	if _, err := New(Config{UDP: "127.0.0.1:0"}, nil); err != ErrNoAllowlist {
		t.Errorf("no allowlist: got %v, want ErrNoAllowlist", err)
	}
}

// TestOversize sends messages over the maximum over UDP and TCP.
func TestOversize(t *testing.T) {
	r := &recorder{}
	s := start(t, Config{MaxMessage: 200}, r)
	u := dial(t, "udp", s.Addrs().UDP)
	u.Write([]byte(strings.Repeat("u", 201)))
	u.Write([]byte(nsxLine))
	c := dial(t, "tcp", s.Addrs().TCP)
	fmt.Fprintf(c, "%s\n%s\n", strings.Repeat("t", 5000), nsxLine)
	o := dial(t, "tcp", s.Addrs().TCP)
	fmt.Fprintf(o, "5000 <1>%s%d %s", strings.Repeat("o", 4997), len(nsxLine), nsxLine)
	waitFor(t, "3 messages", func() bool { return s.Stats().Accepted == 3 })
	if st := s.Stats(); st.Oversize != 3 || st.Parsed != 3 {
		t.Errorf("oversize %d parsed %d; want 3, 3", st.Oversize, st.Parsed)
	}
}

// TestBadOctetCount closes the bad connection only.
func TestBadOctetCount(t *testing.T) {
	r := &recorder{}
	s := start(t, Config{TCP: "127.0.0.1:0"}, r)
	good := dial(t, "tcp", s.Addrs().TCP)
	bad := dial(t, "tcp", s.Addrs().TCP)
	fmt.Fprintf(bad, "%d %s12x oops", len(nsxLine), nsxLine)
	bad.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := bad.Read(make([]byte, 1)); err == nil {
		t.Error("a connection with a bad octet count stays open")
	}
	fmt.Fprintf(good, "%s\n", nsxLine)
	waitFor(t, "2 messages", func() bool { return s.Stats().Accepted == 2 })
	if st := s.Stats(); st.FramingErrors != 1 || !strings.Contains(st.LastFramingError, "127.0.0.1") ||
		!strings.Contains(st.LastFramingError, "12x oops") {
		t.Errorf("framing errors: %d, last %q (want the sender and a sample)", st.FramingErrors, st.LastFramingError)
	}
}

// TestDigitLeadingLinesOverTCP: LF-framed lines that start with a digit
// (rsyslog forwarding its file lines, "2025-04-10T…") are all received;
// they were taken for octet counting and the connection closed.
func TestDigitLeadingLinesOverTCP(t *testing.T) {
	r := &recorder{}
	s := start(t, Config{TCP: "127.0.0.1:0"}, r)
	c := dial(t, "tcp", s.Addrs().TCP)
	line := "2025-04-10T10:12:51.646697+00:00 ahv-host-1 ahv INFO:2025/04/10 10:12:51  [181fa82b-64c6-4eb7-844e-3329128cdff7] " +
		"Discover-Traffic [New] SRC=10.20.20.22 DST=10.20.30.31 PROTO=TCP SPORT=%d DPORT=3306 ACTION=MONITOR DIRECTION=OUTBOUND\n"
	for i := range 100 {
		fmt.Fprintf(c, line, 40000+i)
	}
	waitFor(t, "100 messages", func() bool { return s.Stats().Accepted == 100 })
	if st := s.Stats(); st.Parsed != 100 || st.FramingErrors != 0 {
		t.Errorf("parsed %d, framing errors %d", st.Parsed, st.FramingErrors)
	}
}

// TestSlowSender checks a sender trickling a message is cut off after the
// frame timeout, an idle one after the idle timeout, and neither holds
// others back.
func TestSlowSender(t *testing.T) {
	r := &recorder{}
	s := start(t, Config{TCP: "127.0.0.1:0", FrameTimeout: 300 * time.Millisecond, ConnIdle: time.Second}, r)
	slow := dial(t, "tcp", s.Addrs().TCP)
	idle := dial(t, "tcp", s.Addrs().TCP)
	done := make(chan error, 1)
	go func() {
		for i := 0; ; i++ {
			if _, err := slow.Write([]byte{nsxLine[i%len(nsxLine)]}); err != nil {
				done <- err
				return
			}
			time.Sleep(50 * time.Millisecond) // the slowness under test
		}
	}()
	good := dial(t, "tcp", s.Addrs().TCP)
	for i := 0; i < 10; i++ {
		fmt.Fprintf(good, "%s\n", nsxLine)
	}
	waitFor(t, "the good sender", func() bool { return s.Stats().Accepted == 10 })
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the trickling sender was not cut off")
	}
	idle.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := idle.Read(make([]byte, 1)); err == nil {
		t.Error("an idle connection stays open")
	}
	// The good sender, idle since, times out too.
	waitFor(t, "3 timeouts", func() bool { st := s.Stats(); return st.Timeouts == 3 && st.OpenConns == 0 })
	if st := s.Stats(); st.Accepted != 10 || st.OpenConns != 0 {
		t.Errorf("accepted %d, open %d; want 10, 0", st.Accepted, st.OpenConns)
	}
}

// TestMaxConns refuses connections over the limit.
func TestMaxConns(t *testing.T) {
	r := &recorder{}
	s := start(t, Config{TCP: "127.0.0.1:0", MaxConns: 2}, r)
	for i := 0; i < 2; i++ {
		c := dial(t, "tcp", s.Addrs().TCP)
		fmt.Fprintf(c, "%s\n", nsxLine)
	}
	waitFor(t, "2 connections", func() bool { return s.Stats().OpenConns == 2 })
	third := dial(t, "tcp", s.Addrs().TCP)
	third.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := third.Read(make([]byte, 1)); err == nil {
		t.Error("a third connection stays open")
	}
	if st := s.Stats(); st.Refused != 1 {
		t.Errorf("refused %d", st.Refused)
	}
}

// TestUDPQueueFull blocks the consumer and checks the UDP reader drops and
// counts instead of waiting, while TCP waits and loses nothing.
func TestUDPQueueFull(t *testing.T) {
	r := &recorder{block: make(chan struct{})}
	s := start(t, Config{Queue: 4}, r)
	u := dial(t, "udp", s.Addrs().UDP)
	const n = 50
	for i := 0; i < n; i++ {
		u.Write([]byte(nsxLine))
	}
	waitFor(t, "the UDP datagrams", func() bool { st := s.Stats(); return st.Received+st.KernelDrops >= n })
	c := dial(t, "tcp", s.Addrs().TCP)
	go func() {
		for i := 0; i < n; i++ {
			fmt.Fprintf(c, "%s\n", nsxLine)
		}
	}()
	waitFor(t, "a full queue", func() bool { return s.Stats().Queued == 4 })
	close(r.block)
	waitFor(t, "everything", func() bool {
		st := s.Stats()
		return st.Accepted+st.Dropped == st.Received && st.Received+st.KernelDrops == 2*n
	})
	st := s.Stats()
	if st.Dropped == 0 || st.Dropped > n {
		t.Errorf("dropped %d of %d UDP messages; want some, all UDP", st.Dropped, n)
	}
	t.Logf("UDP: %d received, %d dropped by the queue, %d by the kernel; TCP: all %d", st.Received-n, st.Dropped, st.KernelDrops, n)
}

// TestRotationAndCompression rotates small segments: closed ones are
// compressed only once committed, and hold every line.
func TestRotationAndCompression(t *testing.T) {
	dir := t.TempDir()
	r := &recorder{}
	s := start(t, Config{TCP: "127.0.0.1:0", Archive: dir, SegmentSize: 1000, HoldSegments: true}, r)
	c := dial(t, "tcp", s.Addrs().TCP)
	const n = 40
	for i := 0; i < n; i++ {
		fmt.Fprintf(c, "%s\n", nsxLine)
		waitFor(t, "the message", func() bool { return s.Stats().Accepted == int64(i+1) })
	}
	segs, _ := Segments(dir)
	if len(segs) < 3 {
		t.Fatalf("%d segments; want rotation", len(segs))
	}
	r.mu.Lock()
	ends := r.ends
	r.mu.Unlock()
	for _, seg := range segs[:len(segs)-1] {
		s.Commit(seg, ends[seg])
	}
	waitFor(t, "compression", func() bool { left, _ := Segments(dir); return len(left) == 1 })
	var all []byte
	gz, _ := filepath.Glob(filepath.Join(dir, "*.log.gz"))
	for _, name := range gz {
		all = append(all, gunzip(t, name)...)
	}
	last, _ := os.ReadFile(segs[len(segs)-1])
	all = append(all, last...)
	if got := bytes.Count(all, []byte(nsxLine+"\n")); got != n {
		t.Errorf("archive holds %d messages, want %d", got, n)
	}
}

// TestTLS checks a TLS client is served, and that failed handshakes (plain
// TCP on the TLS port, a client that does not trust the certificate) are
// counted without disturbing it.
func TestTLS(t *testing.T) {
	dir := t.TempDir()
	cert, key, pool := selfSigned(t, dir)
	r := &recorder{}
	s := start(t, Config{TLS: "127.0.0.1:0", CertFile: cert, KeyFile: key}, r)
	addr := s.Addrs().TLS.String()
	good, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pool, ServerName: "localhost"})
	if err != nil {
		t.Fatal(err)
	}
	defer good.Close()
	fmt.Fprintf(good, "%d %s", len(nsxLine), nsxLine)

	plain := dial(t, "tcp", s.Addrs().TLS)
	fmt.Fprintf(plain, "%s\n", nsxLine)
	if _, err := tls.Dial("tcp", addr, &tls.Config{ServerName: "localhost"}); err == nil {
		t.Error("a client without the CA completed the handshake")
	}
	old, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pool, ServerName: "localhost", MaxVersion: tls.VersionTLS11})
	if err == nil {
		old.Close()
		t.Error("TLS 1.1 accepted")
	}
	waitFor(t, "3 handshake failures", func() bool { return s.Stats().TLSErrors == 3 })
	fmt.Fprintf(good, "%d %s", len(ntxLine), ntxLine)
	waitFor(t, "2 messages", func() bool { return s.Stats().Parsed == 2 })
}

// TestTLSClientCertificates: with a client CA, only senders presenting a
// certificate of that CA are served; the others fail the handshake, are
// counted, and nothing they wrote is accepted.
func TestTLSClientCertificates(t *testing.T) {
	dir := t.TempDir()
	cert, key, pool := selfSigned(t, dir)
	caCert, caKey := newCA(t, "FlowSleuth test CA")
	caFile := filepath.Join(dir, "clients.pem")
	os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caCert.Raw}), 0o600)
	otherCert, otherKey := newCA(t, "another CA")
	r := &recorder{}
	s := start(t, Config{TLS: "127.0.0.1:0", CertFile: cert, KeyFile: key, ClientCAFile: caFile}, r)
	addr := s.Addrs().TLS.String()

	send := func(cc []tls.Certificate, line string) {
		c, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pool, ServerName: "localhost", Certificates: cc})
		if err != nil {
			return // TLS 1.2: the client learns of the refusal in the handshake
		}
		fmt.Fprintf(c, "%d %s", len(line), line)
		c.Close()
	}
	send(nil, ntxLine)                                             // no certificate
	send([]tls.Certificate{leaf(t, otherCert, otherKey)}, ntxLine) // another CA's
	waitFor(t, "2 refused handshakes", func() bool { return s.Stats().TLSErrors == 2 })
	send([]tls.Certificate{leaf(t, caCert, caKey)}, nsxLine)
	waitFor(t, "the allowed sender's message", func() bool { return s.Stats().Accepted == 1 })
	waitFor(t, "its event", func() bool { lines, _ := r.snapshot(); return len(lines) > 0 })
	lines, _ := r.snapshot()
	if st := s.Stats(); st.Accepted != 1 || st.TLSErrors != 2 || len(lines) != 1 || lines[0] != nsxLine {
		t.Errorf("accepted %d, handshake failures %d, events %q; want 1, 2, the NSX line", st.Accepted, st.TLSErrors, lines)
	}

	if _, err := New(Config{TCP: "127.0.0.1:0", ClientCAFile: caFile, AllowAny: true}, nil); err == nil {
		t.Error("a client CA without TLS was accepted")
	}
	if _, err := New(Config{TLS: "127.0.0.1:0", CertFile: cert, KeyFile: key, ClientCAFile: key, AllowAny: true}, nil); err == nil {
		t.Error("a client CA file without a certificate was accepted")
	}
}

// newCA makes a certificate authority.
func newCA(t *testing.T, name string) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c, k
}

// leaf issues a client certificate from ca.
func leaf(t *testing.T, ca *x509.Certificate, caKey *ecdsa.PrivateKey) tls.Certificate {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(3), Subject: pkix.Name{CommonName: "esx01"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &k.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: k}
}

// selfSigned writes a certificate for localhost and its key.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"},
		DNSNames: []string{"localhost"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
	c, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(c)
	return certFile, keyFile, pool
}

// TestKernelBuffer checks the receive buffer asked for is reported.
func TestKernelBuffer(t *testing.T) {
	s := start(t, Config{UDP: "127.0.0.1:0", ReadBuffer: 4 << 20}, &recorder{})
	st := s.Stats()
	if st.RcvBufRequest != 4<<20 || st.RcvBufGranted <= 0 {
		t.Errorf("receive buffer: asked %d, granted %d", st.RcvBufRequest, st.RcvBufGranted)
	}
	t.Logf("SO_RCVBUF: asked %d, kernel reports %d", st.RcvBufRequest, st.RcvBufGranted)
}

// TestKernelDrops fills a tiny socket buffer before the server reads: the
// datagrams the kernel dropped are counted, and with those read they make
// up every datagram sent.
func TestKernelDrops(t *testing.T) {
	r := &recorder{}
	s, err := New(Config{UDP: "127.0.0.1:0", ReadBuffer: 4096, AllowAny: true}, r.handle)
	if err != nil {
		t.Fatal(err)
	}
	u := dial(t, "udp", s.Addrs().UDP)
	const n = 300
	for i := 0; i < n; i++ {
		u.Write([]byte(nsxLine))
	}
	errc := make(chan error, 1)
	go func() { errc <- s.Run(context.Background()) }()
	defer func() {
		s.Close()
		if err := <-errc; err != nil {
			t.Error(err)
		}
	}()
	waitFor(t, "every datagram accounted for", func() bool {
		st := s.Stats()
		return st.Received+st.KernelDrops == n && st.Accepted == st.Received
	})
	st := s.Stats()
	if st.KernelDrops == 0 || st.Received == 0 {
		t.Errorf("received %d, kernel drops %d: want both", st.Received, st.KernelDrops)
	}
	t.Logf("%d datagrams: %d read, %d dropped by the kernel", n, st.Received, st.KernelDrops)
}

// TestRotationByAge rotates a segment once it is older than SegmentAge.
func TestRotationByAge(t *testing.T) {
	dir := t.TempDir()
	r := &recorder{}
	s := start(t, Config{TCP: "127.0.0.1:0", Archive: dir, SegmentAge: 100 * time.Millisecond}, r)
	c := dial(t, "tcp", s.Addrs().TCP)
	fmt.Fprintf(c, "%s\n", nsxLine)
	waitFor(t, "the first message", func() bool { return s.Stats().Accepted == 1 })
	time.Sleep(150 * time.Millisecond) // the segment's age passes: the behaviour under test, not a wait for an event
	fmt.Fprintf(c, "%s\n", nsxLine)
	waitFor(t, "the second message", func() bool { return s.Stats().Accepted == 2 })
	if st := s.Stats(); st.Segments != 2 {
		t.Errorf("%d segments, want 2", st.Segments)
	}
	// Nothing commits (HoldSegments is off): the closed one is compressed.
	waitFor(t, "compression", func() bool {
		gz, _ := filepath.Glob(filepath.Join(dir, "*.log.gz"))
		return len(gz) == 1
	})
}

// TestQueueBytes bounds the queue by bytes too: with the consumer blocked,
// UDP messages beyond the budget are dropped, whatever the message count.
func TestQueueBytes(t *testing.T) {
	r := &recorder{block: make(chan struct{})}
	s := start(t, Config{UDP: "127.0.0.1:0", QueueBytes: int(5 * msgCost(len(nsxLine)))}, r)
	u := dial(t, "udp", s.Addrs().UDP)
	const n = 50
	for i := 0; i < n; i++ {
		u.Write([]byte(nsxLine))
	}
	waitFor(t, "the datagrams", func() bool { st := s.Stats(); return st.Received+st.KernelDrops == n })
	close(r.block)
	waitFor(t, "the queue to drain", func() bool { st := s.Stats(); return st.Accepted+st.Dropped == st.Received })
	if st := s.Stats(); st.Accepted > 5 || st.Dropped < st.Received-5 {
		t.Errorf("accepted %d, dropped %d of %d: the byte budget of 5 messages was not kept", st.Accepted, st.Dropped, st.Received)
	}
}
