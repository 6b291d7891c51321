#!/usr/bin/env bash
# open.sh [WORKSPACE]: the desktop app opening a large workspace in a real
# window under Xvfb (testdata/bench/bench.sh makes one of a million
# conversations): when the Overview, the Flows view and the rules showed it,
# how long sorts and filters of the Flows view took, when the Overview's
# readiness line (computed after the Overview, before the rules) filled in
# (gui --open-probe, which quits after it), and the process's peak resident
# memory, the readiness line's work included. The last screenshot taken while the
# app ran is left in OUT/open.png. Targets: Overview in 3 s, 600 MB; a sort
# or a filter in 300 ms.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${BIN:-bin/flowsleuth}
OUT=${OUT:-testdata/bench/out}
mkdir -p "$OUT"
WS=${1:-$OUT/ws1m.flowsleuth}
[ -s "$WS" ] || { echo "open.sh: no workspace $WS (testdata/bench/bench.sh makes it)" >&2; exit 1; }
. testdata/gui/xvfb.sh
cp "$WS" "$home/ws.flowsleuth" # the app may write its settings into the workspace
t=$(mktemp)
HOME=$home XDG_CONFIG_HOME=$home/.config DISPLAY=$disp LANG=en_US.UTF-8 /usr/bin/time -f '%e %M' -o "$t" \
	"$BIN" gui --size 1280x800 --view overview --workspace "$home/ws.flowsleuth" --open-probe 2>/dev/null &
app=$!
while kill -0 $app 2>/dev/null; do # the last picture of the window before the probe quits
	DISPLAY=$disp xwd -root -silent 2>/dev/null | xwdtopnm 2>/dev/null | pnmtopng >"$home/shot.png" 2>/dev/null &&
		mv "$home/shot.png" "$OUT/open.png" || true
	sleep 0.5
done
status=0
wait $app || status=$?
read -r wall rss < <(tail -n1 "$t") # time writes "Command exited with non-zero status N" first
rm -f "$t"
[ $status = 0 ] || echo "open.sh: the app exited with status $status" >&2
echo "peak RSS $((rss / 1024)) MB, whole run (with the sorts and filters) ${wall} s; last screenshot: $OUT/open.png"
