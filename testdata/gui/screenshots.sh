#!/usr/bin/env bash
# screenshots.sh [OUTDIR]: starts the real binary under Xvfb on the built-in
# demo workspace, once per view, and writes OUTDIR/VIEW.png of the window
# (SIZE, default 1280x800). With RAW=1 it also keeps the whole screen (120
# and 100 px larger) as OUTDIR/VIEW-screen.png, which TestScreenshots uses
# to check the window's size. THEME=light|dark picks the theme (default
# light).
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${BIN:-bin/flowsleuth}
OUT=${1:-assets/screenshots}
VIEWS=${VIEWS:-overview flows rules check sources listener export}
DELAY=${DELAY:-3} # seconds between the window's appearance and the picture
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")
for tool in Xvfb xwd xwdtopnm pnmcut pnmtopng pamsumm; do
	command -v $tool >/dev/null || { echo "screenshots: $tool is missing (make deps)"; exit 1; }
done
SIZE=${SIZE:-1280x800}
W=${SIZE%x*} H=${SIZE#*x}
XVFB_SCREEN=$((W + 120))x$((H + 100))x24
. testdata/gui/xvfb.sh # home: a fresh user, no workspace, so the app builds and opens the demo
gui() {
	HOME=$home XDG_CONFIG_HOME=$home/.config XDG_DATA_HOME=$home/.local/share DISPLAY=$disp LANG=en_US.UTF-8 \
		"$BIN" gui --size "$SIZE" --theme "${THEME:-light}" "$@"
}
# Build the demo workspace first: the app makes it on first use, then quits.
gui --latency-probe idle --probe-idle 0s >"$home/build.log" 2>&1 || { cat "$home/build.log"; exit 1; }
# The Check view checks the demo's own NSX export, switched on.
HOME=$home XDG_CONFIG_HOME=$home/.config XDG_DATA_HOME=$home/.local/share LANG=en_US.UTF-8 "$BIN" export \
	--workspace "$home/.local/share/flowsleuth/demo/demo.flowsleuth" --nsx "$home/nsx.json" --apply >/dev/null 2>&1
for view in $VIEWS; do
	extra=()
	[ "$view" = check ] && extra=(--policy "$home/nsx.json")
	gui --view "$view" "${extra[@]}" >"$home/$view.log" 2>&1 &
	app=$!
	for _ in $(seq 100); do # until the window is on the screen (at most 30 s)
		DISPLAY=$disp xwd -root -silent | xwdtopnm 2>/dev/null >"$home/screen.pnm"
		[ "$(pamsumm -max -brief "$home/screen.pnm")" -gt 0 ] && break
		sleep 0.3
	done
	sleep "$DELAY"
	if ! kill -0 $app 2>/dev/null; then
		echo "screenshots: the app exited early:"; cat "$home/$view.log"; exit 1
	fi
	DISPLAY=$disp xwd -root -silent | xwdtopnm 2>/dev/null >"$home/screen.pnm"
	pnmcut -left 0 -top 0 -width "$W" -height "$H" "$home/screen.pnm" | pnmtopng >"$OUT/$view.png" 2>/dev/null
	[ "${RAW:-0}" = 1 ] && pnmtopng "$home/screen.pnm" >"$OUT/$view-screen.png" 2>/dev/null
	kill $app; wait $app 2>/dev/null || true
	echo "wrote $OUT/$view.png"
done
