package clickhouse

import (
	"fmt"
	"strings"
)

// The store's tables. sessions holds one row per session record
// (analysis.SessionRecord): a ReplacingMergeTree keyed by the conversation
// and the record's identity (collector, id), keeping the highest version,
// so the rows of a session written again (a retry, a restart, an open
// session written as it changed) count once when read with FINAL. Its
// partitions are months of the session's start, which never changes: all
// rows of a session share a partition, where FINAL merges them. Addresses
// are IPv6 or IPv4-mapped, 16 bytes (IPv6NumToString shows them).
//
// rule_tags is the NSX rule → tag map the collectors learned (TERM lines of
// NSX-V carry no tag); collectors has a row per write: who, when, how much.
//
// Everything here is what ClickHouse 18.16 accepts: no LowCardinality,
// DateTime64, codecs or TTL.

// SchemaVersion is the version of the tables this FlowSleuth reads and writes.
const SchemaVersion = 1

const sessionsColumns = `(
	collector UInt64, id UInt64, version UInt32, closed UInt8,
	host String, src FixedString(16), dst FixedString(16), proto UInt8, dport UInt16, sport UInt16,
	side UInt8, labels Array(String), vendors UInt8, actions UInt16,
	start DateTime, first_ns Int64, last_ns Int64,
	orig_pkts UInt64, orig_bytes UInt64, reply_pkts UInt64, reply_bytes UInt64,
	unanswered UInt8, samples Array(String)
)`

const sessionsEngine = `ReplacingMergeTree(version) PARTITION BY toYYYYMM(start)
	ORDER BY (src, dst, proto, dport, collector, id)`

// sessionsColumnNames are the sessions columns in the order writes give them.
var sessionsColumnNames = []string{"collector", "id", "version", "closed", "host", "src", "dst", "proto", "dport",
	"sport", "side", "labels", "vendors", "actions", "start", "first_ns", "last_ns",
	"orig_pkts", "orig_bytes", "reply_pkts", "reply_bytes", "unanswered", "samples"}

const ruleTagsTable = `(rule String, tag String, collector UInt64)`
const ruleTagsEngine = `ReplacingMergeTree ORDER BY (rule, tag, collector)`

// collectors gets a row per write: who, when, how many records.
const collectorsTable = `(collector UInt64, name String, workspace String, records UInt64, seen DateTime)`
const collectorsEngine = `MergeTree PARTITION BY toYYYYMM(seen) ORDER BY (collector, seen)`

const versionTable = `(version UInt32, applied DateTime)`
const versionEngine = `MergeTree ORDER BY version`

// Layout says how the tables are laid out: on one server, or sharded over
// a cluster (Distributed tables over MergeTree tables on every shard).
type Layout struct {
	// Cluster is a cluster of the servers' remote_servers; empty: one server.
	Cluster string
	// OnCluster runs the DDL on every server of the cluster (ON CLUSTER,
	// which needs ZooKeeper); false: run it on each server yourself.
	OnCluster bool
	// ShardDefault makes the Distributed tables read each shard's
	// default_database (from remote_servers) instead of the store's
	// database, and leaves the shard tables to ShardDDL: tests run two
	// shards in one server this way.
	ShardDefault bool
}

// table is one of the store's tables with its sharding key in a cluster.
type table struct{ name, columns, engine, shardKey string }

var tables = []table{
	{"sessions", sessionsColumns, sessionsEngine, "cityHash64(src, dst, proto, dport)"},
	{"rule_tags", ruleTagsTable, ruleTagsEngine, "cityHash64(rule)"},
	{"collectors", collectorsTable, collectorsEngine, "collector"},
}

// DDL returns the statements that create the store in database db.
// Readers and collectors use the tables sessions, rule_tags, collectors
// and schema_version; in a cluster the first three are Distributed tables
// over NAME_local tables on every shard, sharded by conversation, so that
// all rows of a session, and of a conversation, are on one shard: FINAL
// and the GROUP BY run there.
func DDL(db string, l Layout) []string {
	on := ""
	if l.Cluster != "" && l.OnCluster {
		on = " ON CLUSTER " + l.Cluster
	}
	out := []string{"CREATE DATABASE IF NOT EXISTS " + db + on}
	if l.Cluster == "" {
		for _, t := range tables {
			out = append(out, fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s.%s %s ENGINE = %s", db, t.name, t.columns, t.engine))
		}
	} else {
		distDB := "'" + db + "'"
		if l.ShardDefault {
			distDB = "''"
		} else {
			out = append(out, shardDDL(db, on)[1:]...)
		}
		for _, t := range tables {
			out = append(out, fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s.%s%s %s ENGINE = Distributed(%s, %s, %s_local, %s)",
				db, t.name, on, t.columns, l.Cluster, distDB, t.name, t.shardKey))
		}
	}
	// The version table is small and read at every open: a plain table on each server.
	return append(out, fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s.schema_version%s %s ENGINE = %s", db, on, versionTable, versionEngine))
}

func shardDDL(db, on string) []string {
	out := []string{"CREATE DATABASE IF NOT EXISTS " + db + on}
	for _, t := range tables {
		out = append(out, fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s.%s_local%s %s ENGINE = %s", db, t.name, on, t.columns, t.engine))
	}
	return out
}

// Script writes statements as a script for clickhouse-client --multiquery.
func Script(stmts []string) string {
	var b strings.Builder
	for _, s := range stmts {
		b.WriteString(s)
		b.WriteString(";\n\n")
	}
	return b.String()
}
