// Package locale keeps Fyne quiet about the C locale. Import it, for its
// side effect only, from package main:
//
//	import _ "github.com/flowsleuth/flowsleuth/app/locale"
//
// Under LANG=C.UTF-8 (the default of many containers and CI machines),
// Fyne's lang package reads the language "C" from the environment while it
// initialises (fyne.io/fyne/v2/lang/lang.go init → updateLocalizer →
// closestSupportedLocale) and again whenever a widget asks for the system
// locale (lang.SystemLocale), and logs "Fyne error: Error parsing user
// locale C" each time: github.com/jeandeaual/go-locale treats only the exact
// values "C" and "POSIX" as "no language", not "C.UTF-8". Every command of
// the binary, CLI included, would print it.
//
// This package's init rewrites the variable Fyne reads to the exact "C" (or
// "POSIX") before Fyne's packages initialise. Go initialises packages in
// import-path order among those whose imports are ready (the Go spec,
// "Package initialization"): this one imports only os, and its path sorts
// before github.com/nicksnyder/go-i18n/v2/i18n, which fyne.io/fyne/v2/lang
// imports and which needs os too, so it always runs before lang. GODEBUG=inittrace=1 shows the order; the CLI tests run every
// command under LANG=C.UTF-8 and check standard error.
package locale

import (
	"os"
	"strings"
)

func init() { Normalise(os.Getenv, os.Setenv) }

// Normalise rewrites a C or POSIX locale with an encoding or modifier
// ("C.UTF-8", "POSIX@euro") to the bare name, in the variable that decides
// the language of messages: the first set of LC_ALL, LC_MESSAGES and LANG,
// as gettext (and go-locale) read them. When that is LANG, it sets
// LC_MESSAGES instead, so LANG's character set still holds for every other
// category in child processes. It reports whether it changed anything.
func Normalise(getenv func(string) string, setenv func(string, string) error) bool {
	for _, name := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		v := getenv(name)
		if v == "" {
			continue
		}
		base, _, _ := strings.Cut(v, ".")
		base, _, _ = strings.Cut(base, "@")
		if v == base || base != "C" && base != "POSIX" {
			return false
		}
		if name == "LANG" {
			name = "LC_MESSAGES"
		}
		return setenv(name, base) == nil
	}
	return false
}
