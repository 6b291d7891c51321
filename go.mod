module github.com/flowsleuth/flowsleuth

go 1.26.8

require github.com/influxdata/go-syslog/v3 v3.0.0
