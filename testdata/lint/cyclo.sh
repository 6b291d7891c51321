#!/usr/bin/env bash
# cyclo.sh GOCYCLO EXCEPTIONS: fail when a function's cyclomatic complexity is
# over 15 (style.md §22) unless EXCEPTIONS lists it (by package, function and
# file, not line, and a reason) at that complexity or more. GOCYCLO is the command to run
# (make cyclo passes a pinned `go run`). Listed functions that have come down
# to 15 or gone are named, so that their line can be removed.
set -euo pipefail
gocyclo=$1 exceptions=$2
# gocyclo exits 1 when it finds any (and go run says so): that is not a failure.
over=$({ $gocyclo -over 15 . 2>&1 1>&3 | { grep -v '^exit status 1$' || true; } >&2; } 3>&1 || true)
awk -v over="$over" '
	/^#/ || NF == 0 { next }
	NF < 5 { printf "%s:%d: an exception needs its reason after the file\n", FILENAME, FNR; bad++ }
	{ allowed[$2 " " $3 " " $4] = $1 }
	END {
		n = split(over, lines, "\n")
		for (i = 1; i <= n; i++) {
			if (split(lines[i], f, " ") < 4) continue
			file = f[4]; sub(/:.*/, "", file)
			key = f[2] " " f[3] " " file
			if (!(key in allowed)) {
				printf "%s: complexity %d, over 15: split it (style.md §22)\n", f[4], f[1]; bad++
			} else if (f[1] > allowed[key]) {
				printf "%s: complexity %d, over the %d its exception allows: it may only come down\n", f[4], f[1], allowed[key]; bad++
			}
			seen[key] = 1
		}
		for (k in allowed) if (!(k in seen)) printf "note: %s is at or under 15 now: remove its line from the exceptions\n", k
		if (bad) { printf "%d finding(s) of the complexity gate\n", bad; exit 1 }
	}' "$exceptions"
