#!/usr/bin/env bash
# million.sh: the commands that read a whole workspace, over a million
# conversations of two shapes, whole process (wall, CPU, peak RSS from GNU
# time), then the desktop app opening each workspace in a real window.
#   ws1m     distinct.awk: a million conversations of one line each, one tag,
#            three hosts (the public web tier seeing a million clients);
#   wstag1m  tagged.awk: a million conversations of four lines each, under
#            four of 60 policies, reported by four of 200 hosts, on four
#            days: long tag and host lists, many distinct ones, 4 M samples.
# Steps: the import of the corpus into a fresh workspace (peak 200 MB);
# rules --format csv; check against a 500-rule policy (it exits 1: the
# policy blocks most conversations); export --xlsx. Targets: rules 5 s,
# export 30 s, 500 MB each; the app shows the Overview in 3 s with 600 MB,
# and sorts or filters Flows in 300 ms (testdata/gui/open.sh).
# With BASE=path/to/another/flowsleuth, each step runs with it too, turn
# about, on a workspace of its own that it imported (so that a BASE of an
# older schema can open it), and the ratios new/base of the medians are
# printed.
# Usage: [BIN=...] [BASE=...] [RUNS=3] testdata/bench/million.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${BIN:-bin/flowsleuth}
OUT=${OUT:-testdata/bench/out}
RUNS=${RUNS:-3}
AWK=${AWK:-$(command -v mawk || command -v awk)}
mkdir -p "$OUT"
[ -x "$BIN" ] || go build -o "$BIN" .
. testdata/bench/copies.sh
use_copies BIN BASE # peaks of copies, see copies.sh

# workspace NAME CORPUS AWKSCRIPT: imports the corpus once, made if missing.
workspace() {
	local ws=$OUT/$1.flowsleuth log=$OUT/$2
	[ -s "$log" ] || "$AWK" -v n=1000000 -f "testdata/bench/$3" >"$log"
	if [ ! -s "$ws" ]; then
		rm -f "$ws"*
		echo "importing $log into $ws"
		"$BIN" import -q --workspace "$ws" "$log" >/dev/null
		"$BIN" workspace info --workspace "$ws" >/dev/null # checkpoint the WAL
		rm -f "$OUT/$1-base.flowsleuth"*
	fi
	if [ -n "${BASE:-}" ] && [ ! -s "$OUT/$1-base.flowsleuth" ]; then
		rm -f "$OUT/$1-base.flowsleuth"*
		echo "importing $log into $OUT/$1-base.flowsleuth with $BASE"
		"$BASE" import -q --workspace "$OUT/$1-base.flowsleuth" "$log" >/dev/null
		"$BASE" workspace info --workspace "$OUT/$1-base.flowsleuth" >/dev/null
	fi
}
workspace ws1m distinct-1m.log distinct.awk
workspace wstag1m tagged-1m.log tagged.awk
[ -s "$OUT/policy500.json" ] || "$AWK" -f testdata/bench/policy500.awk >"$OUT/policy500.json"

# run BINARY WORKSPACE STEP...: prints "wall cpu rss_kb" of one run.
run() {
	local b=$1 ws=$2; shift 2
	local t; t=$(mktemp)
	/usr/bin/time -q -f '%e %U %S %M' -o "$t" "$b" "$@" --workspace "$ws" >/dev/null 2>&1 || true
	awk '{ printf "%s %.2f %s\n", $1, $2 + $3, $4 }' "$t"; rm -f "$t"
}

# median FILE COLUMN: the median of a column.
median() { cut -d' ' -f"$2" "$1" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

printf "%-8s %-14s %-5s %8s %8s %8s %9s\n" workspace step binary wall_s cpu_s RSS_MB wall_ratio
for ws in ws1m wstag1m; do
	# The import of the corpus into a fresh workspace comes first: its peak
	# must not grow with the million conversations.
	log=distinct-1m.log
	[ "$ws" = ws1m ] || log=tagged-1m.log
	for s in "import -q $OUT/$log" "rules --format csv" "check --policy $OUT/policy500.json --default drop" "export --xlsx $OUT/1m.xlsx"; do
		nf=$(mktemp) bf=$(mktemp)
		for _ in $(seq "$RUNS"); do
			if [ "${s%% *}" = import ]; then
				rm -f "$OUT/import-new.flowsleuth"* "$OUT/import-base.flowsleuth"*
				run "$BIN" "$OUT/import-new.flowsleuth" $s >>"$nf"
				[ -z "${BASE:-}" ] || run "$BASE" "$OUT/import-base.flowsleuth" $s >>"$bf"
				continue
			fi
			run "$BIN" "$OUT/$ws.flowsleuth" $s >>"$nf"
			[ -z "${BASE:-}" ] || run "$BASE" "$OUT/$ws-base.flowsleuth" $s >>"$bf"
		done
		name="${s%% *}"
		for f in "$nf" ${BASE:+"$bf"}; do
			b=new; [ "$f" = "$bf" ] && b=base
			printf "%-8s %-14s %-5s %8s %8s %8d" "$ws" "$name" "$b" "$(median "$f" 1)" "$(median "$f" 2)" "$(($(median "$f" 3) / 1024))"
			if [ "$b" = new ] && [ -n "${BASE:-}" ]; then
				awk -v a="$(median "$nf" 1)" -v b="$(median "$bf" 1)" 'BEGIN { printf " %9.2f", a / b }'
			fi
			echo
		done
		rm -f "$nf" "$bf"
	done
done
rm -f "$OUT/1m.xlsx" "$OUT/import-new.flowsleuth"* "$OUT/import-base.flowsleuth"*

if command -v Xvfb >/dev/null; then
	for ws in ws1m wstag1m; do
		echo "app opening $ws:"
		BIN=$BIN OUT=$OUT testdata/gui/open.sh "$OUT/$ws.flowsleuth"
	done
fi
