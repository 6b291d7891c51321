#!/usr/bin/env bash
# store.sh: the shared store at scale. SESSIONS Nutanix sessions (one [Destroy] line each, over
# CONVS conversations, four AHV hosts, a week) are imported into a workspace, the laptop's way,
# and, split by host, by two collectors at once into a private ClickHouse server (started here on
# free loopback ports, in a temporary directory). Then the conversation table is read from both:
# wall time and peak RSS of the reading process; and each collector's ingest rate.
# Usage: testdata/bench/store.sh [SESSIONS [CONVS]]   (default 10,000,000 and 1,000,000)
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${BIN:-bin/flowsleuth}
OUT=${OUT:-testdata/bench/out}
SESSIONS=${1:-10000000}
CONVS=${2:-1000000}
AWK=${AWK:-$(command -v mawk || command -v awk)}
mkdir -p "$OUT"
if [ ! -x /usr/bin/time ]; then
	echo "bench-store: installing GNU time (for peak RSS)"
	sudo=$([ "$(id -u)" = 0 ] || echo sudo)
	$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq time
fi
command -v clickhouse-server >/dev/null || { echo "bench-store: clickhouse-server is missing: run make deps"; exit 1; }
[ -x "$BIN" ] || go build -o "$BIN" .
export LANG=en_US.UTF-8 # Fyne cannot read the C locale (see Known issues)

# The corpus: session i is of conversation k = i%CONVS, logged by host ahv-((i/CONVS + k)%4), so that
# every conversation has sessions at both collectors (a gets ahv-0 and ahv-1, b the others), half each.
a="$OUT/store-$SESSIONS-a.log" b="$OUT/store-$SESSIONS-b.log"
if [ ! -s "$a" ] || [ ! -s "$b" ]; then
	echo "bench-store: writing $SESSIONS sessions over $CONVS conversations"
	"$AWK" -v n="$SESSIONS" -v c="$CONVS" -v a="$a" -v b="$b" 'BEGIN {
		t0 = 1744243200 # 2025-04-10T00:00:00Z
		for (i = 0; i < n; i++) {
			k = i % c; h = (int(i / c) + k) % 4; t = t0 + int(i * 604800 / n)
			d = int(t / 86400) - 20188 + 10; s = t % 86400
			stamp = sprintf("2025-04-%02dT%02d:%02d:%02d", d, int(s / 3600), int(s / 60) % 60, s % 60)
			pay = sprintf("2025/04/%02d %02d:%02d:%02d", d, int(s / 3600), int(s / 60) % 60, s % 60)
			printf "<134>%s.000000+00:00 ahv-%d Genesis_1: INFO:%s  [ff16a6fb-ff89-4c2d-a9c8-f67030f93d79] Discover-Traffic [Destroy] SRC=10.%d.%d.%d DST=172.16.%d.1 PROTO=TCP SPORT=%d DPORT=%d ACTION=MONITOR DIRECTION=%s ORIG: PKTS=%d BYTES=%d REPLY: PKTS=%d BYTES=%d\n", \
				stamp, h, pay, int(k / 65536) % 256, int(k / 256) % 256, k % 256, k % 200, 32768 + i % 28000, 1024 + k % 50000, \
				(k % 2 ? "INBOUND" : "OUTBOUND"), 1 + i % 20, 60 + i % 9000, i % 15, (i * 7) % 20000 > (h < 2 ? a : b)
		}
	}'
fi

# A private ClickHouse server.
free_port() {
	local p
	while :; do
		p=$((20000 + RANDOM % 40000))
		(echo >/dev/tcp/127.0.0.1/$p) 2>/dev/null || { echo $p; return; }
	done
}
CH=$(mktemp -d)
NATIVE=$(free_port) HTTP=$(free_port)
cat >"$CH/config.xml" <<EOF
<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>$CH/server.log</log><errorlog>$CH/server.err.log</errorlog><size>10M</size><count>1</count></logger>
  <listen_host>127.0.0.1</listen_host><tcp_port>$NATIVE</tcp_port><http_port>$HTTP</http_port>
  <path>$CH/data/</path><tmp_path>$CH/tmp/</tmp_path><user_files_path>$CH/user_files/</user_files_path>
  <format_schema_path>$CH/format_schemas/</format_schema_path>
  <mark_cache_size>268435456</mark_cache_size><timezone>UTC</timezone>
  <users><default><password></password><networks><ip>127.0.0.1</ip></networks><profile>default</profile><quota>default</quota></default></users>
  <profiles><default><max_memory_usage>8000000000</max_memory_usage></default></profiles>
  <quotas><default></default></quotas>
</yandex>
EOF
clickhouse-server --config-file="$CH/config.xml" >"$CH/stdout.log" 2>&1 &
CHPID=$!
trap 'kill -9 $CHPID 2>/dev/null; wait $CHPID 2>/dev/null || true; rm -rf "$CH"' EXIT
for _ in $(seq 100); do
	[ "$(curl -s "http://127.0.0.1:$HTTP/ping" 2>/dev/null)" = "Ok." ] && break
	sleep 0.1
done
URL="clickhouse://127.0.0.1:$NATIVE/bench"
"$BIN" store init "$URL" >/dev/null

# measure NAME CMD...: wall seconds and peak RSS of CMD, output to /dev/null.
measure() {
	local name=$1; shift
	local t; t=$(mktemp)
	/usr/bin/time -f '%e %M' -o "$t" "$@" >"$OUT/.stdout"
	read -r wall rss <"$t"; rm -f "$t"
	printf "%-56s %9.2f s %8.0f MB\n" "$name" "$wall" "$((rss / 1024))"
	echo "$wall" >"$OUT/.last"
}

rm -f "$OUT"/store-ws*.flowsleuth* "$OUT"/store-col*.flowsleuth* "$OUT"/store-col*.out
printf "%-56s %11s %11s\n" "step ($SESSIONS sessions, $CONVS conversations)" wall "peak RSS"
cat "$a" "$b" >/dev/null # page cache
measure "workspace: import both files" "$BIN" import -q --workspace "$OUT/store-ws.flowsleuth" "$a" "$b"

# Two collectors at once, one per half of the hosts.
pids=()
for x in a b; do
	f="$OUT/store-$SESSIONS-$x.log"
	/usr/bin/time -f '%e %M' -o "$OUT/store-col$x.time" \
		"$BIN" import -q --workspace "$OUT/store-col$x.flowsleuth" --store "$URL" "$f" >"$OUT/store-col$x.out" &
	pids+=($!)
done
wait "${pids[@]}" # not the server
for x in a b; do
	read -r wall rss <"$OUT/store-col$x.time"
	n=$(wc -l <"$OUT/store-$SESSIONS-$x.log")
	printf "%-56s %9.2f s %8.0f MB  %s sessions/s\n" "collector $x: import and send $n sessions" "$wall" "$((rss / 1024))" \
		"$(awk -v n="$n" -v w="$wall" 'BEGIN { printf "%.0f", n / w }')"
	grep -o 'session records sent in .*' "$OUT/store-col$x.out" | sed 's/^/    send alone: /'
done

echo
measure "workspace: flows --format csv" "$BIN" flows --format csv --workspace "$OUT/store-ws.flowsleuth"
cp "$OUT/.stdout" "$OUT/store-ws.csv"
measure "store: flows --format csv" "$BIN" flows --format csv --store "$URL" --workspace "$OUT/none.flowsleuth"
cmp -s "$OUT/.stdout" "$OUT/store-ws.csv" && echo "    byte-equal to the workspace's" || echo "    DIFFERENT from the workspace's"
measure "workspace: flows --top 100" "$BIN" flows --top 100 --workspace "$OUT/store-ws.flowsleuth"
measure "store: flows --top 100" "$BIN" flows --top 100 --store "$URL" --workspace "$OUT/none.flowsleuth"
measure "store: flows --since 2025-04-12 --until 2025-04-13" "$BIN" flows --format csv --since 2025-04-12 --until 2025-04-13 \
	--store "$URL" --workspace "$OUT/none.flowsleuth"
measure "workspace: rules" "$BIN" rules --format csv --workspace "$OUT/store-ws.flowsleuth"
measure "store: rules" "$BIN" rules --format csv --store "$URL" --workspace "$OUT/none.flowsleuth"
t0=$(date +%s.%N)
curl -s "http://127.0.0.1:$HTTP/" --data-binary "OPTIMIZE TABLE bench.sessions FINAL"
printf "%-56s %9.2f s\n" "store: OPTIMIZE TABLE sessions FINAL (merge every part)" "$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')"
measure "store: flows --format csv, parts merged" "$BIN" flows --format csv --store "$URL" --workspace "$OUT/none.flowsleuth"
echo "clickhouse-server peak RSS: $(awk '/VmHWM/ { printf "%.0f MB", $2 / 1024 }' /proc/$CHPID/status)"
rows=$(curl -s "http://127.0.0.1:$HTTP/" --data-binary "SELECT count() FROM bench.sessions")
disk=$(curl -s "http://127.0.0.1:$HTTP/" --data-binary \
	"SELECT sum(bytes_on_disk) FROM system.parts WHERE database = 'bench' AND table = 'sessions' AND active")
printf "store: %s rows, %.0f MB on disk; workspace %.0f MB\n" "$rows" "$(awk -v b="$disk" 'BEGIN { print b / 1e6 }')" \
	"$(du -cb "$OUT"/store-ws.flowsleuth* | tail -1 | awk '{ print $1 / 1e6 }')"
