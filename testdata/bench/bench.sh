#!/usr/bin/env bash
# bench.sh: GB-sized corpora from `flowsleuth demo`, imported by flowsleuth and,
# in the same run, read by `wc -l` (the I/O floor) and aggregated by naive.awk
# (the by-hand baseline). Prints wall time, MB/s, lines/s and peak RSS, and
# flowsleuth's speed-up over awk. Two corpus sizes show memory does not grow
# with input. Usage: testdata/bench/bench.sh [SESSIONS]  (default 1,800,000: about 6 M lines, 1.6 GB)
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${BIN:-bin/flowsleuth}
OUT=${OUT:-testdata/bench/out}
SESSIONS=${1:-1800000}
AWK=${AWK:-$(command -v mawk || command -v awk)}
mkdir -p "$OUT"
if [ ! -x /usr/bin/time ]; then
	echo "bench: installing GNU time (for peak RSS)"
	sudo=$([ "$(id -u)" = 0 ] || echo sudo)
	$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq time
fi
[ -x "$BIN" ] || go build -o "$BIN" .
. testdata/bench/copies.sh
use_copies BIN # peaks of copies, see copies.sh

gen() { # vendor sessions file
	[ -s "$3" ] || "$BIN" demo --vendor "$1" --sessions "$2" --seed 7 --out "$3"
}
gen nutanix "$SESSIONS" "$OUT/nutanix-full.log"
gen nutanix $((SESSIONS / 4)) "$OUT/nutanix-quarter.log"
gen nsxt $((SESSIONS / 2)) "$OUT/nsxt.log"
[ -s "$OUT/nsx4-rfc5424.log" ] || "$BIN" demo --vendor nsx4 --wrap rfc5424 --sessions $((SESSIONS / 4)) --seed 7 --out "$OUT/nsx4-rfc5424.log"

# measure NAME FILE CMD...: one row; wall and RSS from GNU time.
measure() {
	local name=$1 file=$2; shift 2
	cat "$file" >/dev/null # warm the page cache: every tool reads from memory
	local t; t=$(mktemp)
	/usr/bin/time -f '%e %M' -o "$t" "$@" >/dev/null
	read -r wall rss <"$t"; rm -f "$t"
	local bytes lines; bytes=$(stat -c %s "$file"); lines=$(wc -l <"$file")
	awk -v n="$name" -v f="$(basename "$file")" -v w="$wall" -v r="$rss" -v b="$bytes" -v l="$lines" 'BEGIN {
		w = (w < 0.01 ? 0.01 : w)
		printf "%-22s %-22s %9.1f %9.2f %9.0f %12.0f %9.0f\n", f, n, b/1e6, w, b/1e6/w, l/w, r/1024 }'
	echo "$wall" >"$OUT/.last"
}

printf "%-22s %-22s %9s %9s %9s %12s %9s\n" file tool MB wall_s MB/s lines/s RSS_MB
for f in "$OUT/nutanix-full.log" "$OUT/nutanix-quarter.log" "$OUT/nsxt.log"; do
	measure "wc -l" "$f" wc -l "$f"
	measure "awk (naive.awk)" "$f" "$AWK" -f testdata/bench/naive.awk "$f"; awk_s=$(cat "$OUT/.last")
	measure "flowsleuth import" "$f" "$BIN" import -q --no-workspace "$f"; fs_s=$(cat "$OUT/.last")
	measure "flowsleuth (1 worker)" "$f" "$BIN" import -q --no-workspace --workers 1 "$f"
	awk -v a="$awk_s" -v f="$fs_s" 'BEGIN { printf "%-22s speed-up over awk: %.1fx\n\n", "", a / (f < 0.01 ? 0.01 : f) }'
done
# Header path: the hand-written RFC 5424/3164 reader against go-syslog's machines.
f="$OUT/nsx4-rfc5424.log"
measure "fast header path" "$f" "$BIN" import -q --no-workspace "$f"; fast_s=$(cat "$OUT/.last")
measure "go-syslog headers" "$f" "$BIN" import -q --no-workspace --syslog-library "$f"; lib_s=$(cat "$OUT/.last")
awk -v a="$lib_s" -v f="$fast_s" 'BEGIN { printf "%-22s go-syslog / fast path: %.2fx the time\n", "", a / (f < 0.01 ? 0.01 : f) }'

# Workspace: the same import stored in a workspace, then 1 M distinct conversations.
echo
f="$OUT/nutanix-full.log"
measure "import, in memory" "$f" "$BIN" import -q --no-workspace "$f"; mem_s=$(cat "$OUT/.last")
rm -f "$OUT"/ws.flowsleuth*
measure "import, workspace" "$f" "$BIN" import -q --workspace "$OUT/ws.flowsleuth" "$f"; ws_s=$(cat "$OUT/.last")
awk -v a="$ws_s" -v m="$mem_s" 'BEGIN { printf "%-22s workspace / in memory: %+.0f%%\n\n", "", (a / (m < 0.01 ? 0.01 : m) - 1) * 100 }'
d="$OUT/distinct-1m.log"
[ -s "$d" ] || "$AWK" -v n=1000000 -f testdata/bench/distinct.awk >"$d"
rm -f "$OUT"/ws1m.flowsleuth*
measure "1 M convs, in memory" "$d" "$BIN" import -q --no-workspace "$d"
measure "1 M convs, workspace" "$d" "$BIN" import -q --workspace "$OUT/ws1m.flowsleuth" "$d"
"$BIN" workspace info --workspace "$OUT/ws1m.flowsleuth" >/dev/null # checkpoint the WAL
size=$(du -cb "$OUT"/ws1m.flowsleuth* | tail -1 | cut -f1)
t=$(mktemp)
/usr/bin/time -f '%e %M' -o "$t" "$BIN" flows --workspace "$OUT/ws1m.flowsleuth" --top 100 >/dev/null
read -r wall rss <"$t"; rm -f "$t"
printf "%-22s workspace size %.0f MB per million conversations\n" "" "$(awk -v s="$size" 'BEGIN { print s / 1e6 }')"
printf "%-22s reopen and first 100 by bytes: %s s, %s MB RSS\n" "" "$wall" "$((rss / 1024))"

rm -f "$OUT/.last"

# The commands that read the whole workspace, and the app opening it, over
# this million conversations and a million of another shape.
echo
BIN=$BIN OUT=$OUT testdata/bench/million.sh
