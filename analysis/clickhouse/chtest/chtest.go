// Package chtest starts a private ClickHouse server for tests: Debian's
// clickhouse-server (make deps installs it) on free loopback ports, with its
// data, logs and configuration in a temporary directory, and no system
// service. A test binary starts one (Main) and its tests share it, each in
// a database of its own.
package chtest

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// Cluster is the server's cluster of two shards, each a database of the
// server itself (ShardDatabases), for the sharded layout's tests.
const Cluster = "two_shards"

// ShardDatabases are the databases of Cluster's shards.
var ShardDatabases = []string{"shard1", "shard2"}

// Server is a running private clickhouse-server.
type Server struct {
	Native string // host:port of the native protocol
	HTTP   string // host:port of the HTTP interface
	Dir    string // data, logs and configuration
	cmd    *exec.Cmd
	exited chan struct{}
}

// ErrNotInstalled is returned by Start when clickhouse-server is missing.
var ErrNotInstalled = errors.New("clickhouse-server is not installed: run 'make deps' (Debian: apt-get install clickhouse-server clickhouse-client)")

// config is the server's whole configuration: loopback only, one user
// without password, UTC, small caches, and a cluster of two shards that are
// two databases of this server (Cluster).
const config = `<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>{dir}/server.log</log><errorlog>{dir}/server.err.log</errorlog><size>10M</size><count>1</count></logger>
  <listen_host>127.0.0.1</listen_host>
  <tcp_port>{native}</tcp_port>
  <http_port>{http}</http_port>
  <path>{dir}/data/</path>
  <tmp_path>{dir}/tmp/</tmp_path>
  <user_files_path>{dir}/user_files/</user_files_path>
  <format_schema_path>{dir}/format_schemas/</format_schema_path>
  <mark_cache_size>268435456</mark_cache_size>
  <max_concurrent_queries>50</max_concurrent_queries>
  <timezone>UTC</timezone>
  <remote_servers><two_shards>
    <shard><replica><host>127.0.0.1</host><port>{native}</port><default_database>shard1</default_database></replica></shard>
    <shard><replica><host>127.0.0.1</host><port>{native}</port><default_database>shard2</default_database></replica></shard>
  </two_shards></remote_servers>
  <users><default><password></password><networks><ip>127.0.0.1</ip></networks><profile>default</profile><quota>default</quota></default></users>
  <profiles><default><max_memory_usage>4000000000</max_memory_usage></default></profiles>
  <quotas><default></default></quotas>
</yandex>
`

// Start starts a server with its files under dir and waits until it
// answers. It returns ErrNotInstalled without clickhouse-server.
func Start(dir string) (*Server, error) {
	bin, err := exec.LookPath("clickhouse-server")
	if err != nil {
		return nil, ErrNotInstalled
	}
	native, err := freePort()
	if err != nil {
		return nil, err
	}
	httpPort, err := freePort()
	if err != nil {
		return nil, err
	}
	conf := strings.NewReplacer("{dir}", dir, "{native}", fmt.Sprint(native), "{http}", fmt.Sprint(httpPort)).Replace(config)
	confPath := filepath.Join(dir, "config.xml")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		return nil, err
	}
	s := &Server{Native: fmt.Sprintf("127.0.0.1:%d", native), HTTP: fmt.Sprintf("127.0.0.1:%d", httpPort),
		Dir: dir, exited: make(chan struct{})}
	s.cmd = exec.Command(bin, "--config-file="+confPath)
	s.cmd.Dir = dir
	out, err := os.Create(filepath.Join(dir, "stdout.log"))
	if err != nil {
		return nil, err
	}
	defer out.Close()
	s.cmd.Stdout, s.cmd.Stderr = out, out
	// The server dies with the test binary, even when that is killed.
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start clickhouse-server: %w", err)
	}
	go func() { s.cmd.Wait(); close(s.exited) }()
	if err := s.wait(60 * time.Second); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

// wait polls the HTTP interface's /ping until the server answers.
func (s *Server) wait(limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		select {
		case <-s.exited:
			return fmt.Errorf("clickhouse-server exited at start: %s", s.logTail())
		default:
		}
		resp, err := http.Get("http://" + s.HTTP + "/ping")
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if strings.TrimSpace(string(body)) == "Ok." {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("clickhouse-server did not answer within %v: %s", limit, s.logTail())
}

// logTail is the end of the server's error log, to explain a failure.
func (s *Server) logTail() string {
	b, _ := os.ReadFile(filepath.Join(s.Dir, "server.err.log"))
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(b)
}

// Exec runs statement on the server over HTTP and returns its output.
func (s *Server) Exec(statement string) (string, error) {
	resp, err := http.Post("http://"+s.HTTP+"/", "text/plain", strings.NewReader(statement))
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("%s: %s", resp.Status, body)
	}
	return string(body), err
}

// URL returns the store address of database db on the server.
func (s *Server) URL(db string) string { return "clickhouse://" + s.Native + "/" + db }

// Stop kills the server and waits for it to exit: its data is thrown
// away, and a graceful stop of 18.16 takes ten seconds.
func (s *Server) Stop() {
	s.cmd.Process.Kill()
	<-s.exited
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

var (
	shared    *Server
	sharedErr error
	dbs       atomic.Int64
)

// Main runs a test binary's tests with a shared server started for them
// (when the binary has tests that call Need) and stops it after: call it
// from TestMain.
func Main(m *testing.M) int {
	dir, err := os.MkdirTemp("", "flowsleuth-clickhouse")
	if err != nil {
		sharedErr = err
		return m.Run()
	}
	defer os.RemoveAll(dir)
	shared, sharedErr = Start(dir)
	code := m.Run()
	if shared != nil {
		shared.Stop()
	}
	return code
}

// Need returns the shared server and the URL of a new database of it for
// this test, or fails the test saying why there is no server (never a
// skip: the store is part of what the tests check).
func Need(t testing.TB) (*Server, string) {
	t.Helper()
	if sharedErr != nil {
		t.Fatalf("no ClickHouse server for the store tests: %v", sharedErr)
	}
	if shared == nil {
		t.Fatal("chtest.Need without chtest.Main in TestMain")
	}
	return shared, shared.URL(fmt.Sprintf("t%d_%d", os.Getpid(), dbs.Add(1)))
}
