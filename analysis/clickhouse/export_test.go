package clickhouse

// SetMaxInsertBytes lowers the size cap of one insert for a test and
// returns what restores it.
func SetMaxInsertBytes(n int) (restore func()) {
	old := maxInsertBytes
	maxInsertBytes = n
	return func() { maxInsertBytes = old }
}
