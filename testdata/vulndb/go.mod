// The builder of the local vulnerability database (make vulncheck): a module
// of its own, so that the product's go.mod holds only what ships.
module github.com/flowsleuth/flowsleuth/testdata/vulndb

go 1.26.8

require golang.org/x/mod v0.43.0
