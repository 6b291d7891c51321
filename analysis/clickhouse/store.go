// Package clickhouse is FlowSleuth's shared store: a ClickHouse database to
// which collectors at many sites write one row per session (the session
// records their workspaces journal), and from which readers compute the
// conversation table inside ClickHouse, pulling only conversations.
//
// The client is the official github.com/ClickHouse/clickhouse-go/v2 over
// the native protocol, at v2.25.0: the newest release whose batch inserts
// work with ClickHouse 18.16 (Debian's, which the tests run). From v2.27
// the client sends "INSERT … FORMAT Native", to which 18.16 answers with a
// block of no columns ("expected 0 arguments"); v2.25 sends
// "INSERT … VALUES". Its HTTP protocol sends settings 18.16 does not know.
//
// Nothing but the CLI and the app imports this package.
package clickhouse

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"os"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// Errors of Open.
var (
	ErrNoSchema = errors.New("the store has no FlowSleuth tables: run 'flowsleuth store init'")
	ErrTooNew   = errors.New("the store was made by a newer FlowSleuth")
	ErrOldStore = errors.New("the store's tables are older than this FlowSleuth: run 'flowsleuth store init' to migrate them")
)

// Store is an open store. It is safe for concurrent use.
type Store struct {
	addr   Address
	conn   driver.Conn
	server string // the server's version
}

// Open connects to the store at url (see ParseURL) and checks its tables.
func Open(ctx context.Context, url string) (*Store, error) {
	s, err := connect(ctx, url)
	if err != nil {
		return nil, err
	}
	v, err := s.schemaVersion(ctx)
	switch {
	case err != nil:
		s.Close()
		return nil, fmt.Errorf("open %s: %w", s.addr, err)
	case v == 0:
		s.Close()
		return nil, fmt.Errorf("open %s: %w", s.addr, ErrNoSchema)
	case v > SchemaVersion:
		s.Close()
		return nil, fmt.Errorf("open %s: %w (schema %d, this version knows %d)", s.addr, ErrTooNew, v, SchemaVersion)
	case v < SchemaVersion:
		s.Close()
		return nil, fmt.Errorf("open %s: %w", s.addr, ErrOldStore)
	}
	return s, nil
}

// connect opens a connection to the server of url, without looking at the
// store's tables.
func connect(ctx context.Context, url string) (*Store, error) {
	a, err := ParseURL(url)
	if err != nil {
		return nil, err
	}
	opts := &ch.Options{
		Addr: []string{a.Host},
		// The store's database may not exist yet (init): every query
		// names it.
		Auth:         ch.Auth{Database: "default", Username: a.User, Password: a.Password},
		Compression:  &ch.Compression{Method: ch.CompressionLZ4},
		DialTimeout:  10 * time.Second,
		ReadTimeout:  10 * time.Minute, // a GROUP BY over billions of rows
		MaxOpenConns: 4,
	}
	if a.User == "" {
		opts.Auth.Username = "default"
	}
	if a.Secure {
		opts.TLS = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	conn, err := ch.Open(opts)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", a, err)
	}
	v, err := conn.ServerVersion()
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("connect to %s: %w", a, err)
	}
	return &Store{addr: a, conn: conn, server: fmt.Sprintf("%d.%d.%d", v.Version.Major, v.Version.Minor, v.Version.Patch)}, nil
}

// schemaVersion returns the version of the store's tables, 0 when it has none.
func (s *Store) schemaVersion(ctx context.Context) (uint32, error) {
	var n uint64
	err := s.conn.QueryRow(ctx, `SELECT count() FROM system.tables WHERE database = ? AND name = 'schema_version'`,
		s.addr.Database).Scan(&n)
	if err != nil || n == 0 {
		return 0, err
	}
	var v uint32
	err = s.conn.QueryRow(ctx, fmt.Sprintf(`SELECT max(version) FROM %s.schema_version`, s.addr.Database)).Scan(&v)
	return v, err
}

// Init creates the store's database and tables at url, or brings older
// ones up to date, and returns the schema version it found.
func Init(ctx context.Context, url string, l Layout) (before uint32, err error) {
	s, err := connect(ctx, url)
	if err != nil {
		return 0, err
	}
	defer s.Close()
	if before, err = s.schemaVersion(ctx); err != nil {
		return 0, fmt.Errorf("init %s: %w", s.addr, err)
	}
	if before > SchemaVersion {
		return before, fmt.Errorf("init %s: %w (schema %d, this version knows %d)", s.addr, ErrTooNew, before, SchemaVersion)
	}
	if before == SchemaVersion {
		return before, nil
	}
	for _, stmt := range DDL(s.addr.Database, l) {
		if err := s.conn.Exec(ctx, stmt); err != nil {
			return before, fmt.Errorf("init %s: %w\n%s", s.addr, err, stmt)
		}
	}
	err = s.insert(ctx, "schema_version (version, applied)", func(b driver.Batch) error {
		return b.Append(uint32(SchemaVersion), time.Now())
	})
	if err != nil {
		return before, fmt.Errorf("init %s: %w", s.addr, err)
	}
	return before, nil
}

// Address returns the store's address (without credentials).
func (s *Store) Address() Address { return s.addr }

// ServerVersion returns the version of the ClickHouse server.
func (s *Store) ServerVersion() string { return s.server }

// Close closes the connections.
func (s *Store) Close() error { return s.conn.Close() }

// table names a table of the store.
func (s *Store) table(name string) string { return s.addr.Database + "." + name }

// insert writes rows into table ("name (columns)") in one block. Every
// insert goes through a batch: ClickHouse 18.16 does not read the rows of
// an INSERT … VALUES sent as text over the native protocol (clickhouse-client
// parses them itself), so Exec of one waits forever.
//
// On a Distributed table the insert returns once every shard holds its
// rows (insert_distributed_sync), not when they are queued on the node that
// received them: the collector drops what the store acknowledged.
func (s *Store) insert(ctx context.Context, table string, rows func(driver.Batch) error) error {
	ctx = ch.Context(ctx, ch.WithSettings(ch.Settings{"insert_distributed_sync": 1}))
	b, err := s.conn.PrepareBatch(ctx, "INSERT INTO "+s.table(table))
	if err != nil {
		return err
	}
	if err := rows(b); err != nil {
		b.Abort()
		return err
	}
	failpoint("store-insert") // the server has the INSERT, not its rows
	return b.Send()
}

// failpoint kills the process with SIGKILL when FLOWSLEUTH_FAILPOINT names
// this point: "store-insert" with an insert sent but not its rows,
// "store-ack" after the store acknowledged an insert and before the
// journal drops it. The crash tests' way to stop a collector at the worst
// moments.
func failpoint(name string) {
	if os.Getenv("FLOWSLEUTH_FAILPOINT") == name {
		if p, err := os.FindProcess(os.Getpid()); err == nil {
			p.Kill()
			select {} // the signal is on its way
		}
	}
}
