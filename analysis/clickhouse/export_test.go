package clickhouse

// SetMaxInsertBytes lowers the size cap of one insert for a test and
// returns what restores it.
func SetMaxInsertBytes(n int) (restore func()) {
	old := maxInsertBytes
	maxInsertBytes = n
	return func() { maxInsertBytes = old }
}

// ShardDDL returns the statements that create the shard tables of a
// cluster layout in database db of one shard: what ON CLUSTER runs there,
// for the tests that emulate a cluster on one server.
func ShardDDL(db string) []string { return shardDDL(db, "") }
