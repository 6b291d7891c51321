#!/usr/bin/env bash
# ingest.sh: issue 14's targets, side by side in one run, on corpora that do not
# come from FlowSleuth's own generator (hitlog): 2 M Nutanix sessions in long
# lines (~314 bytes, rsyslog form) and in short ones (~237 bytes, payload only),
# two thirds of them never destroyed, and 2 M NSX DFW sessions with overlapping
# pings of one key.
#  - flows: `flowsleuth flows --format csv` against the naive awk aggregation
#    (naive.awk, a field loop) and against `wc -l` (the floor of reading).
#  - import: into a fresh workspace against in memory (--no-workspace): wall
#    time and peak RSS.
#  - next day: the corpus's second half into a workspace of its first half
#    (its conversations and open connections stored), against the second
#    half in memory.
#  - exactness: the sessions flows counts against the generator's truth.
#  - a longer span: 3x the sessions over 108 hours, imported in memory and
#    into a new workspace (peak RSS: target 1), its sessions against the truth.
# Each tool runs RUNS times (default 3), in turn, after one read of the file
# into the page cache; the median is printed, and each ratio of medians with
# the range of the runs' own ratios. Wall times from GNU time.
# Usage: testdata/bench/ingest.sh [SESSIONS]   (default 2,000,000 per corpus)
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${BIN:-bin/flowsleuth}
OUT=${OUT:-testdata/bench/out}
SESSIONS=${1:-2000000}
RUNS=${RUNS:-3}
AWK=${AWK:-$(command -v mawk || command -v awk)}
mkdir -p "$OUT"
[ -x /usr/bin/time ] || { echo "ingest: GNU time is needed (apt-get install time)"; exit 1; }
[ -x "$BIN" ] || go build -o "$BIN" .
. testdata/bench/copies.sh
use_copies BIN # peaks of copies, see copies.sh

. testdata/bench/corpora.sh
long=$(corpus nutanix)
short=$(corpus nutanix-short -short)
nsx=$(corpus nsx -vendor nsx)

# run CMD...: wall seconds and peak RSS (MB) of one run, on one line.
run() {
	local t; t=$(mktemp)
	/usr/bin/time -f '%e %M' -o "$t" "$@" >/dev/null
	awk '{ printf "%s %.0f\n", $1, $2 / 1024 }' "$t"; rm -f "$t"
}

# median FILE COLUMN: the median of a column.
median() { sort -n -k"$2" "$1" | awk -v c="$2" '{ v[NR] = $c } END { print v[int((NR + 1) / 2)] }'; }

ws="$OUT/scale.flowsleuth"
printf "%-28s %-20s %7s %7s  %s\n" corpus tool wall_s RSS_MB ratio
for f in "$long" "$short" "$nsx"; do
	cat "$f" >/dev/null # every tool reads from the page cache
	name="$(basename "$f" .log), $("$AWK" '{ n += length($0) + 1 } END { printf "%.0f B", n / NR }' "$f")"
	halves "$f"
	rm -f "$ws.day1" "$ws.day1-wal" "$ws.day1-shm"
	"$BIN" import -q --workspace "$ws.day1" "$first" >/dev/null
	cat "$second" >/dev/null
	d=$(mktemp -d)
	for _ in $(seq "$RUNS"); do # in turn, so drift in the machine's speed hits all alike
		run wc -l "$f" >>"$d/wc"
		run "$AWK" -f testdata/bench/naive.awk "$f" >>"$d/awk"
		run "$BIN" flows --format csv "$f" >>"$d/flows"
		run "$BIN" import -q --no-workspace "$f" >>"$d/mem"
		rm -f "$ws" "$ws-wal" "$ws-shm"
		run "$BIN" import -q --workspace "$ws" "$f" >>"$d/ws"
		run "$BIN" import -q --no-workspace "$second" >>"$d/mem2"
		rm -f "$ws" "$ws-wal" "$ws-shm"; cp "$ws.day1" "$ws"
		run "$BIN" import -q --workspace "$ws" "$second" >>"$d/ws2"
	done
	for k in wc awk flows mem ws mem2 ws2; do
		echo "$(median "$d/$k" 1) $(median "$d/$k" 2)" >"$d/$k.m"
	done
	row() { # label key [ratio text]
		read -r w r <"$d/$2.m"
		printf "%-28s %-20s %7s %7s  %s\n" "$name" "$1" "$w" "$r" "${3:-}"
	}
	# ratio A B: the ratio of A's median to B's, and the range of the
	# ratios of the runs (A and B of one run ran one after the other: the
	# range shows how much the machine's speed moved the ratio).
	ratio() {
		awk -v a="$(cut -d' ' -f1 "$d/$1.m")" -v b="$(cut -d' ' -f1 "$d/$2.m")" 'BEGIN { printf "%.2fx", a / (b < 0.01 ? 0.01 : b) }'
		paste -d' ' "$d/$1" "$d/$2" | awk '{ r = $1 / ($3 < 0.01 ? 0.01 : $3); lo = NR == 1 || r < lo ? r : lo; hi = r > hi ? r : hi }
			END { if (NR > 1) printf " (runs %.2f-%.2f)", lo, hi }'
	}
	row "wc -l" wc
	row "awk (naive.awk)" awk
	row "flowsleuth flows" flows "awk/flows $(ratio awk flows), flows/wc $(ratio flows wc)"
	row "import, in memory" mem
	row "import, workspace" ws "ws/mem $(ratio ws mem)"
	row "2nd half, in memory" mem2
	row "2nd half, next day" ws2 "next/mem $(ratio ws2 mem2)"
	truth=$(awk -F, 'NR > 1 { s += $5 } END { print s }' "${f%.log}.csv")
	got=$("$BIN" flows --format csv "$f" | awk -F, 'NR > 1 { s += $7 } END { print s }')
	printf "%-28s sessions: %s, truth %s (%s)\n\n" "$name" "$got" "$truth" "$([ "$got" = "$truth" ] && echo exact || echo DIFFERENT)"
	rm -rf "$d"
done
# A longer span: three times the sessions over three times the hours (108,
# as in four and a half days of logs). Per conversation a workspace's import
# keeps its sessions per hour, which grow with the hours, not with the
# conversations: its peak must stay bounded too (target 1).
span=$(corpus nutanix-span -sessions "$((3 * SESSIONS))" -hours 108)
cat "$span" >/dev/null
name="$(basename "$span" .log), 108 h"
d=$(mktemp -d)
for _ in $(seq "$RUNS"); do
	run "$BIN" import -q --no-workspace "$span" >>"$d/mem"
	rm -f "$ws" "$ws-wal" "$ws-shm"
	run "$BIN" import -q --workspace "$ws" "$span" >>"$d/ws"
done
for k in mem ws; do
	echo "$(median "$d/$k" 1) $(median "$d/$k" 2)" >"$d/$k.m"
done
row "import, in memory" mem
row "import, workspace" ws "ws/mem $(ratio ws mem)"
truth=$(awk -F, 'NR > 1 { s += $5 } END { print s }' "${span%.log}.csv")
got=$("$BIN" flows --format csv --workspace "$ws" | awk -F, 'NR > 1 { s += $7 } END { print s }')
printf "%-28s sessions in the workspace: %s, truth %s (%s)\n" "$name" "$got" "$truth" "$([ "$got" = "$truth" ] && echo exact || echo DIFFERENT)"
rm -rf "$d"
rm -f "$ws"* # the workspaces, the day before's, and their -wal and -shm files
