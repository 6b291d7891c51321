#!/usr/bin/env bash
# deadcode.sh DEADCODE KNOWN: fail when a function no main package reaches is
# not in KNOWN (by file and function, not line, with a reason). DEADCODE is the
# command to run (make deadcode passes a pinned `go run`). Test-helper
# packages (analysistest, chtest: the httptest pattern) exist for tests and
# are left out. Known functions that are reached again, or gone, are named, so
# that their line can be removed.
set -euo pipefail
deadcode=$1 known=$2
# deadcode exits 0 when it lists functions; not when the packages fail to
# load, which must not pass as "nothing is dead".
out=$($deadcode ./...) || { echo "deadcode failed: the packages above do not load" >&2; exit 1; }
found=$(printf '%s\n' "$out" | grep -Ev '^analysis/(analysistest|clickhouse/chtest)/' || true)
awk -v found="$found" '
	/^#/ || NF == 0 { next }
	NF < 3 { printf "%s:%d: a known dead function needs its reason after the name\n", FILENAME, FNR; bad++ }
	{ known[$1 " " $2] = 1 }
	END {
		n = split(found, lines, "\n")
		for (i = 1; i <= n; i++) {
			# file:line:col: unreachable func: Name
			if (split(lines[i], f, " ") < 4) continue
			file = f[1]; sub(/:.*/, "", file)
			key = file " " f[4]
			if (!(key in known)) {
				printf "%s unreachable from the program: delete it, or use it\n", lines[i]; bad++
			}
			seen[key] = 1
		}
		for (k in known) if (!(k in seen)) printf "note: %s is reached now or gone: remove its line from the known list\n", k
		if (bad) { printf "%d finding(s) of deadcode\n", bad; exit 1 }
	}' "$known"
