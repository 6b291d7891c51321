# copies.sh, sourced by the bench scripts: `use_copies VAR...` points each
# variable that names a binary at a copy of it, in a directory removed on exit.
# Peaks are measured on copies: a binary fresh from the linker maps its text
# from large page-cache folios and peaks 12-15 MB higher than the same bytes
# copied (185-192 MB against 172-177 on long lines).
copies=$(mktemp -d)
trap 'rm -rf "$copies"' EXIT

use_copies() {
	local v
	for v in "$@"; do
		[ -n "${!v:-}" ] || continue
		cp "${!v}" "$copies/$v"
		printf -v "$v" %s "$copies/$v"
	done
}
