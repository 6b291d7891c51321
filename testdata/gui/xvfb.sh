# xvfb.sh, sourced by the scripts of this directory: starts Xvfb with a
# screen of XVFB_SCREEN (default 1400x900x24) on a free display (disp),
# makes a scratch home for the app (home), and stops and removes both when
# the script exits. Xvfb picks the display itself (-displayfd): two scripts
# started at once cannot both take one, and a lock file left in /tmp by a
# killed server is no obstacle (it removes a stale one).
home=$(mktemp -d)
Xvfb -displayfd 3 -screen 0 "${XVFB_SCREEN:-1400x900x24}" -nolisten tcp 3>"$home/.xvfb-display" >/dev/null 2>&1 &
xvfb=$!
trap 'kill $xvfb 2>/dev/null; sleep 0.2; rm -rf "$home" 2>/dev/null || true' EXIT
for _ in $(seq 100); do # it writes the number once it accepts clients
	[ -s "$home/.xvfb-display" ] && break
	sleep 0.1
done
[ -s "$home/.xvfb-display" ] || { echo "Xvfb did not start in 10 s" >&2; exit 1; }
disp=:$(head -n1 "$home/.xvfb-display")
