package clickhouse

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"regexp"
	"strings"
)

// DefaultPort is ClickHouse's native protocol port.
const DefaultPort = "9000"

// PasswordEnv names the environment variable that gives the password when
// the address has none (an address is printed, a variable is not).
const PasswordEnv = "FLOWSLEUTH_CLICKHOUSE_PASSWORD"

// ErrBadURL is returned for an address that is not clickhouse://HOST[:PORT]/DB.
var ErrBadURL = errors.New("a store is clickhouse://[USER[:PASSWORD]@]HOST[:PORT]/DATABASE")

// Address is a store's location: a database on a ClickHouse server reached
// over the native protocol.
type Address struct {
	Host     string // host:port
	Database string
	User     string
	Password string
	Secure   bool // TLS (?secure=true)
}

var identifier = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// ParseURL reads clickhouse://[USER[:PASSWORD]@]HOST[:PORT]/DATABASE[?secure=true].
// The database name must be an identifier: it is written into the DDL.
func ParseURL(s string) (Address, error) {
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "clickhouse" || u.Host == "" || u.Opaque != "" {
		return Address{}, fmt.Errorf("%w, not %q", ErrBadURL, s)
	}
	a := Address{Host: u.Host, Database: strings.TrimPrefix(u.Path, "/")}
	if u.Port() == "" {
		a.Host = net.JoinHostPort(u.Hostname(), DefaultPort)
	}
	if !identifier.MatchString(a.Database) {
		return Address{}, fmt.Errorf("%w: the database name %q must be letters, digits and _", ErrBadURL, a.Database)
	}
	if u.User != nil {
		a.User = u.User.Username()
		a.Password, _ = u.User.Password()
	}
	if a.Password == "" {
		a.Password = os.Getenv(PasswordEnv)
	}
	if a.Secure, err = secure(u.Query()); err != nil {
		return Address{}, err
	}
	return a, nil
}

// secure reads the only parameter a store's URL has, secure=true|1|false|0.
func secure(q url.Values) (bool, error) {
	on := false
	for k, v := range q {
		switch {
		case k == "secure" && len(v) == 1 && (v[0] == "true" || v[0] == "1"):
			on = true
		case k == "secure" && len(v) == 1 && (v[0] == "false" || v[0] == "0"):
		default:
			return false, fmt.Errorf("%w: unknown parameter %q (only secure=true)", ErrBadURL, k)
		}
	}
	return on, nil
}

// String returns the address without credentials: what is printed and
// what a collector's workspace records.
func (a Address) String() string {
	s := "clickhouse://" + a.Host + "/" + a.Database
	if a.Secure {
		s += "?secure=true"
	}
	return s
}
