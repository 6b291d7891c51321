#!/usr/bin/env bash
# pgo.sh: remakes default.pgo, the CPU profile the Go compiler optimises the
# flowsleuth binary with (profile-guided optimisation: `go build` uses the
# default.pgo of the main package's directory). It profiles the commands
# whose speed the benchmarks measure, on issue 14's corpora (corpora.sh,
# made if missing): flows on each; the import in memory of the short lines
# and of NSX; a new workspace of the short lines' first half and the next
# day's import of the second; and rules and export --xlsx of a workspace of
# 200,000 tagged conversations (tagged.awk). The profiles are merged into
# one. Run it after changes to the hot paths: a profile that no longer
# matches the code only loses its effect (the compiler matches functions by
# name and line offset); it never changes what the program does.
# Usage: testdata/bench/pgo.sh   (SESSIONS=2000000 per corpus, OUT=testdata/bench/out)
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-testdata/bench/out}
SESSIONS=${SESSIONS:-2000000}
AWK=${AWK:-$(command -v mawk || command -v awk)}
mkdir -p "$OUT"
. testdata/bench/corpora.sh
long=$(corpus nutanix)
short=$(corpus nutanix-short -short)
nsx=$(corpus nsx -vendor nsx)
halves "$short"
tagged="$OUT/tagged-200k.log"
[ -s "$tagged" ] || "$AWK" -v n=200000 -f testdata/bench/tagged.awk >"$tagged"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/flowsleuth" .
n=0
profile() { # command args...: one run of the binary, profiled
	n=$((n + 1))
	echo "pgo: flowsleuth $*"
	"$tmp/flowsleuth" "$1" --cpuprofile "$tmp/$n.prof" "${@:2}" >/dev/null
}
for f in "$long" "$short" "$nsx"; do
	profile flows --format csv "$f"
done
profile import -q --no-workspace "$short"
profile import -q --no-workspace "$nsx"
profile import -q --workspace "$tmp/day.flowsleuth" "$first"
profile import -q --workspace "$tmp/day.flowsleuth" "$second"
profile import -q --workspace "$tmp/tagged.flowsleuth" "$tagged"
profile rules --format csv --workspace "$tmp/tagged.flowsleuth"
profile export --xlsx "$tmp/tagged.xlsx" --workspace "$tmp/tagged.flowsleuth"
go tool pprof -proto "$tmp"/*.prof >"$tmp/merged.pgo"
mv "$tmp/merged.pgo" default.pgo
echo "pgo: wrote default.pgo ($(wc -c <default.pgo) bytes, $n profiles)"
