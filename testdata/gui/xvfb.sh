# xvfb.sh, sourced by the scripts of this directory: starts Xvfb on a free
# display (disp), makes a scratch home for the app (home), and stops and
# removes both when the script exits.
home=$(mktemp -d)
for n in $(seq 90 199); do [ -e /tmp/.X$n-lock ] || { disp=:$n; break; }; done
Xvfb "$disp" -screen 0 1400x900x24 -nolisten tcp >/dev/null 2>&1 &
xvfb=$!
trap 'kill $xvfb 2>/dev/null; sleep 0.2; rm -rf "$home" 2>/dev/null || true' EXIT
sleep 1
