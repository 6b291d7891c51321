#!/usr/bin/env bash
# latency.sh: the desktop app's event-loop latency (how long a function
# queued for the UI goroutine waits to run: what a user feels as lag), in a
# real window under Xvfb, idle and while importing the 1.7 GB Nutanix
# benchmark corpus into a fresh workspace through the Sources view.
# Target: p99 under 100 ms during the import.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${BIN:-bin/flowsleuth}
OUT=${OUT:-testdata/bench/out}
CORPUS=${CORPUS:-$OUT/nutanix-full.log}
mkdir -p "$OUT"
[ -s "$CORPUS" ] || "$BIN" demo --vendor nutanix --sessions 1800000 --seed 7 --out "$CORPUS"
. testdata/gui/xvfb.sh
probe() { # what
	rm -f "$home/ws.flowsleuth"*
	HOME=$home XDG_CONFIG_HOME=$home/.config DISPLAY=$disp LANG=en_US.UTF-8 \
		"$BIN" gui --size 1280x800 --workspace "$home/ws.flowsleuth" --latency-probe "$1" 2>/dev/null | grep '^ui latency'
}
echo "corpus: $CORPUS ($(du -h "$CORPUS" | cut -f1))"
probe idle
probe "$CORPUS"
