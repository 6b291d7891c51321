# corpora.sh, sourced by ingest.sh and pgo.sh: issue 14's corpora, made by
# testdata/bench/hitlog (not by FlowSleuth's demo generator) and kept in OUT
# between runs. `corpus NAME ARGS...` makes OUT/hitlog-NAME.log (and its
# truth, hitlog-NAME.csv) of SESSIONS sessions if missing, and prints its
# path: nutanix (long lines, ~314 bytes), nutanix-short (-short, ~237 bytes),
# nsx (-vendor nsx).
corpus() {
	local f="$OUT/hitlog-$1.log"; shift
	[ -s "$f" ] || go run ./testdata/bench/hitlog -sessions "$SESSIONS" -out "$f" -truth "${f%.log}.csv" "$@"
	echo "$f"
}

# halves FILE: sets first and second to the paths of FILE's first and second
# halves by lines (FILE.first.log, FILE.second.log), made if missing: the
# next day's import reads the second into a workspace of the first.
halves() {
	local f=$1 half
	first="${f%.log}.first.log" second="${f%.log}.second.log"
	half=$(($(wc -l <"$f") / 2))
	[ -s "$first" ] || head -n "$half" "$f" >"$first"
	[ -s "$second" ] || tail -n +"$((half + 1))" "$f" >"$second"
}
