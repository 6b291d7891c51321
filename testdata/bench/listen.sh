#!/usr/bin/env bash
# listen.sh: `flowsleuth listen` against rsyslog on loopback, side by side in one run, with the same
# sender: loggen from Debian's syslog-ng-core (2 connections, the demo corpus as message source, lines
# sent as they are). For UDP and TCP at several total rates it prints messages sent and received,
# loss, the receiver's CPU (percent of one core while the sender ran, drain included) and peak RSS.
# flowsleuth runs as shipped: parsing (go-syslog headers), aggregation, a workspace commit every 5 s
# and the archive (64 MiB segments, gzipped once committed); flowsleuth-fast is the same with the
# hand-written header reader (--syslog-library=false). rsyslog: imudp/imtcp to omfile.
# Usage: testdata/bench/listen.sh   (RATES="50000 100000 200000 max" DURATION=10 PROTOS="udp tcp"
#        RECEIVERS="rsyslog flowsleuth flowsleuth-fast" FS_FLAGS="--rcvbuf 33554432" PIN=1)
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${BIN:-bin/flowsleuth}
OUT=${OUT:-testdata/bench/out}/listen
RATES=${RATES:-"50000 100000 200000 max"}
DURATION=${DURATION:-10}
PROTOS=${PROTOS:-"udp tcp"}
RECEIVERS=${RECEIVERS:-"rsyslog flowsleuth flowsleuth-fast"}
FS_PORT=${FS_PORT:-15514}
RS_PORT=${RS_PORT:-15515}
FS_FLAGS=${FS_FLAGS:-} # extra flags for flowsleuth listen, for experiments
# PIN=1 runs the sender on CPU 0 and the receiver on CPU 1 (taskset): the
# sender's rate then does not depend on how much CPU the receiver takes.
PIN=${PIN:-0}
SEND_CPU=() RECV_CPU=()
if [ "$PIN" = 1 ]; then SEND_CPU=(taskset -c 0) RECV_CPU=(taskset -c 1); fi
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
[ -x "$BIN" ] || go build -o "$BIN" .
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")
sudo=$([ "$(id -u)" = 0 ] || echo sudo)

# rsyslog, from Debian; only the binary and its modules are used, with our own configuration.
if ! command -v rsyslogd >/dev/null; then
	echo "bench-listen: installing rsyslog (its service is not started here)"
	$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends rsyslog
fi
# loggen, extracted from syslog-ng-core without installing it.
SNG=$OUT/syslog-ng
if [ ! -x "$SNG/usr/bin/loggen" ]; then
	echo "bench-listen: fetching loggen (syslog-ng-core)"
	(cd "$OUT" && apt-get download syslog-ng-core >/dev/null 2>&1 || { $sudo apt-get update -qq && apt-get download syslog-ng-core; })
	dpkg-deb -x "$OUT"/syslog-ng-core_*.deb "$SNG"
fi
export LD_LIBRARY_PATH=$SNG/usr/lib/syslog-ng${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} SYSLOGNG_PREFIX=$SNG/usr
LOGGEN=$SNG/usr/bin/loggen
if ldd "$LOGGEN" | grep -q "not found"; then
	echo "bench-listen: loggen misses libraries:"; ldd "$LOGGEN" | grep "not found"; exit 1
fi

# The corpus: Nutanix hit logs (RFC 3164) and NSX-T DFW logs (RFC 5424), as the hosts send them.
CORPUS=$OUT/corpus.log
if [ ! -s "$CORPUS" ]; then
	"$BIN" demo --vendor nutanix --wrap rfc3164 --sessions 20000 --seed 3 --out "$OUT/c1.log" 2>/dev/null
	"$BIN" demo --vendor nsxt --wrap rfc5424 --sessions 20000 --seed 4 --out "$OUT/c2.log" 2>/dev/null
	cat "$OUT/c1.log" "$OUT/c2.log" >"$CORPUS"
	rm -f "$OUT/c1.log" "$OUT/c2.log"
fi

TCK=$(getconf CLK_TCK)
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
peak_rss_mb() { awk '/VmHWM/ { printf "%.0f", $2 / 1024 }' "/proc/$1/status"; }

# wait_stable CMD...: until CMD's output stays the same for 1.5 s (the receiver has drained).
wait_stable() {
	local prev="" cur n=0
	while [ $n -lt 3 ]; do
		sleep 0.5
		cur=$("$@")
		if [ "$cur" = "$prev" ]; then n=$((n + 1)); else n=0; prev=$cur; fi
	done
}

fs_received() { grep -o 'received [0-9,]*' "$OUT/fs.err" | tail -1 | tr -dc 0-9; }
rs_size() { stat -c %s "$OUT/rs.out" 2>/dev/null || echo 0; }

start_flowsleuth() { # proto [flags]
	rm -rf "$OUT/fs" && mkdir -p "$OUT/fs"
	"${RECV_CPU[@]}" "$BIN" listen --"$1" 127.0.0.1:$FS_PORT --allow 127.0.0.1 --workspace "$OUT/fs/ws.flowsleuth" \
		--archive "$OUT/fs/archive" --status 500ms "${@:2}" $FS_FLAGS 2>"$OUT/fs.err" &
	PID=$!
}

start_rsyslog() { # proto
	rm -rf "$OUT/rs" "$OUT/rs.out" && mkdir -p "$OUT/rs"
	local input
	if [ "$1" = udp ]; then
		input="module(load=\"imudp\")
input(type=\"imudp\" address=\"127.0.0.1\" port=\"$RS_PORT\" rcvbufSize=\"8m\")"
	else
		input="module(load=\"imtcp\")
input(type=\"imtcp\" address=\"127.0.0.1\" port=\"$RS_PORT\")"
	fi
	cat >"$OUT/rs/rsyslog.conf" <<-EOF
		global(workDirectory="$OUT/rs")
		$input
		template(name="raw" type="string" string="%rawmsg%\n")
		action(type="omfile" file="$OUT/rs.out" template="raw")
	EOF
	"${RECV_CPU[@]}" rsyslogd -n -f "$OUT/rs/rsyslog.conf" -i "$OUT/rs/rsyslogd.pid" 2>"$OUT/rs.err" &
	PID=$!
}

# run RECEIVER PROTO RATE: one row.
run() {
	local recv=$1 proto=$2 rate=$3 port flag
	case $recv in
	flowsleuth) start_flowsleuth "$proto"; port=$FS_PORT ;;
	flowsleuth-fast) start_flowsleuth "$proto" --syslog-library=false; port=$FS_PORT ;;
	*) start_rsyslog "$proto"; port=$RS_PORT ;;
	esac
	sleep 1
	local per=$((rate == 0 ? 10000000 : rate / 2))
	flag=$([ "$proto" = udp ] && echo -D || echo -S)
	local c0 t0 t1 c1 sent rss
	c0=$(cpu_ticks $PID); t0=$(date +%s.%N)
	sent=$("${SEND_CPU[@]}" "$LOGGEN" -i "$flag" --active-connections=2 --rate=$per -I "$DURATION" -R "$CORPUS" -d -l 127.0.0.1 $port 2>&1 |
		grep -o 'average rate.*count=[0-9]*' | grep -o 'count=[0-9]*' | tr -dc 0-9)
	t1=$(date +%s.%N)
	if [ "$recv" = rsyslog ]; then wait_stable rs_size; else wait_stable fs_received; fi
	c1=$(cpu_ticks $PID); rss=$(peak_rss_mb $PID)
	kill -TERM $PID; wait $PID || true
	local got kern="-"
	if [ "$recv" != rsyslog ]; then
		got=$(grep -o '[0-9,]* accepted' "$OUT/fs.err" | tail -1 | tr -dc 0-9)
		kern=$(grep -o '[0-9,]* dropped (kernel)' "$OUT/fs.err" | tail -1 | tr -dc 0-9)
	else
		got=$(wc -l <"$OUT/rs.out")
	fi
	awk -v r="$recv" -v p="$proto" -v rate="$([ "$rate" = 0 ] && echo max || echo "$rate")" -v s="${sent:-0}" \
		-v g="${got:-0}" -v k="$kern" -v c0="$c0" -v c1="$c1" -v tck="$TCK" -v t0="$t0" -v t1="$t1" -v rss="$rss" 'BEGIN {
		d = t1 - t0; loss = s - g
		printf "%-5s %-8s %-15s %11d %11d %9d %7.2f%% %10.0f %7s %6.0f%% %8s\n", p, rate, r, s, g, loss,
			(s > 0 ? 100 * loss / s : 0), g / d, k, 100 * (c1 - c0) / tck / d, rss }'
	rm -rf "$OUT/fs" "$OUT/rs.out"
}

echo "flowsleuth listen vs rsyslog $(rsyslogd -v | head -1 | awk '{ print $2 }'), sender loggen (2 connections, ${DURATION} s), $(nproc) cores"
echo "corpus: $CORPUS ($(wc -l <"$CORPUS") lines, sent in a loop)"
printf "%-5s %-8s %-15s %11s %11s %9s %8s %10s %7s %7s %8s\n" proto rate receiver sent received lost loss "recv msg/s" kernel CPU RSS_MB
for proto in $PROTOS; do
	for rate in $RATES; do
		[ "$rate" = max ] && rate=0
		for recv in $RECEIVERS; do
			run "$recv" "$proto" "$rate"
		done
	done
done
