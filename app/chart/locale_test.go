package chart

// Quiet under LANG=C.UTF-8, as the binary is (see app/locale).
import _ "github.com/flowsleuth/flowsleuth/app/locale"
