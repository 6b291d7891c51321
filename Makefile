# FlowSleuth. `make run` and `make test` install whatever is missing first.
SHELL := /bin/bash
GO    ?= go
BIN   := bin/flowsleuth
PGO   := $(CURDIR)/default.pgo
# Packages with goroutines of their own: tested under the race detector too. Not ingest/inventory
# and ingest/printable: no goroutine in them, their tests or what they call, so nothing the detector
# could see (46 s of the race pass for inventory). TestRacePackagesCoverGoroutines (racepkgs_test.go)
# fails when a package with a go statement is missing here.
RACE_PKGS := ./ingest ./ingest/listen ./analysis/... ./export ./app/...
# ingest/demo has none either, but this test of it drives the model's and the synthesis's (the
# others generate and parse in one goroutine: 50 s of the race pass).
RACE_DEMO := ^TestKnobsChangeTheDemo$$
# Fyne's cgo build, and screenshots under Xvfb.
APT_PKGS := gcc libc6-dev pkg-config libgl1-mesa-dev libx11-dev libxcursor-dev libxrandr-dev \
            libxinerama-dev libxi-dev libxxf86vm-dev xvfb x11-apps netpbm
# The shared store's tests start a private ClickHouse server (analysis/clickhouse/chtest). Debian's
# 18.16 packages download 13 MB and install in 7 s here: not worth a separate target. No service
# is left running: tests start their own server on free loopback ports.
STORE_PKGS := clickhouse-server clickhouse-client
FUZZTIME ?= 10s
# Fyne's packaging tool, pinned (go run fetches it through the module proxy).
FYNE_TOOL := fyne.io/tools/cmd/fyne@v1.7.4
# The analysers of make lint, pinned the same way: `go run tool@version` builds each with the
# dependencies its authors released it with (a shared tools module would let one tool's
# golang.org/x/tools pick another's), the checksum database vouches for them, and the
# product's go.mod keeps only what the product links.
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
GOCYCLO     := github.com/fzipp/gocyclo/cmd/gocyclo@v0.6.0
GOVULNCHECK := golang.org/x/vuln/cmd/govulncheck@v1.10.0
DEADCODE    := golang.org/x/tools/cmd/deadcode@v0.53.0
# The vulnerability database: vuln.go.dev is out of reach here, and the module proxy serves the
# database's source, golang.org/x/vulndb; testdata/vulndb builds govulncheck's file database
# from its OSV entries at each run (a newer snapshot: a newer pseudo-version here).
VULNDB      := golang.org/x/vulndb@v0.0.0-20261105234957-e22db6528018
DIST      := dist
PACKAGE   := $(DIST)/flowsleuth-linux-$(shell $(GO) env GOARCH 2>/dev/null).tar.xz
APP_ID    := io.github.flowsleuth
# make install: per user, no root. PREFIX=/usr/local (as root) installs for everyone.
PREFIX    ?= $(HOME)/.local

.PHONY: all deps build run screenshots test vet fmt-check lint staticcheck tidy-check cyclo deadcode vulncheck bench bench-check bench-scale bench-ingest bench-million bench-gui bench-listen bench-store fuzz clean pgo \
        package install uninstall

all: build

## deps: install the missing system packages (Debian/Ubuntu), checking first
deps:
	@command -v $(GO) >/dev/null || { echo "make deps: Go is required (https://go.dev/dl/)"; exit 1; }
	@missing=$$(for p in $(APT_PKGS) $(STORE_PKGS); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "make deps: installing" $$missing; \
		sudo=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$sudo apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq --no-install-recommends $$missing; \
		if echo "$$missing" | grep -qw clickhouse-server && [ -d /run/systemd/system ]; then \
			echo "make deps: stopping the clickhouse-server service the package started (the tests run their own)"; \
			$$sudo systemctl disable --now clickhouse-server >/dev/null 2>&1 || true; \
		fi; \
	fi
	@$(GO) mod download

## build: build bin/flowsleuth
build: deps
	$(GO) build -o $(BIN) .

## run: build, then open the desktop app (on the built-in demo workspace when you have none)
run: build
	./$(BIN) gui

## package: the Linux archive (binary, .desktop entry, icon) from FyneApp.toml, into dist/
package: build
	rm -rf $(DIST)/stage && mkdir -p $(DIST)/stage/assets
	cp FyneApp.toml $(DIST)/stage/ && cp assets/icon.png $(DIST)/stage/assets/
	@# The tool wants Go code beside FyneApp.toml (and rewrites that file): it gets a copy and a
	@# stub, and packages the binary `make build` made (--exe), so what is tested is what ships.
	printf 'package main\n' > $(DIST)/stage/main.go
	cd $(DIST)/stage && $(GO) run $(FYNE_TOOL) package -os linux --exe $(abspath $(BIN))
	mv $(DIST)/stage/FlowSleuth.tar.xz $(PACKAGE) && rm -rf $(DIST)/stage
	@echo "wrote $(PACKAGE)"

## install: the packaged app for this user (no root): $(PREFIX)/bin, the menu entry and its icon
install: package
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && tar -xJf $(PACKAGE) -C "$$tmp" && \
	root="$$tmp/flowsleuth/usr/local" && \
	install -Dm755 "$$root/bin/flowsleuth" "$(PREFIX)/bin/flowsleuth" && \
	install -Dm644 "$$root/share/pixmaps/$(APP_ID).png" "$(PREFIX)/share/icons/hicolor/256x256/apps/$(APP_ID).png" && \
	mkdir -p "$(PREFIX)/share/applications" && \
	sed 's|^Exec=flowsleuth|Exec=$(PREFIX)/bin/flowsleuth|' "$$root/share/applications/$(APP_ID).desktop" \
		> "$(PREFIX)/share/applications/$(APP_ID).desktop"
	@if command -v update-desktop-database >/dev/null; then update-desktop-database -q "$(PREFIX)/share/applications"; fi
	@echo "installed $(PREFIX)/bin/flowsleuth and the menu entry $(PREFIX)/share/applications/$(APP_ID).desktop"

## uninstall: remove what make install put there
uninstall:
	rm -f "$(PREFIX)/bin/flowsleuth" "$(PREFIX)/share/applications/$(APP_ID).desktop" \
		"$(PREFIX)/share/icons/hicolor/256x256/apps/$(APP_ID).png"

## screenshots: the real app under Xvfb, one PNG per view, into assets/screenshots
screenshots: build
	testdata/gui/screenshots.sh assets/screenshots

## test: vet, formatting, the lint gates, every test, and the race detector on concurrent packages
# -vet=off: the vet target has just run all of vet's analyzers on these packages and their tests;
# go test's own vet (a subset) would type-check each package twice more, once per pass.
# The tests are compiled with the profile the binary is (default.pgo): the binary
# the command-line tests build is then what ships, and its packages are compiled once.
# The race detector's builds ship nothing: they go without it, which compiles faster.
test: deps vet fmt-check lint
	$(GO) test -count=1 -timeout 30m -vet=off -pgo=$(PGO) ./...
	$(GO) test -count=1 -timeout 30m -vet=off -pgo=off -race $(RACE_PKGS)
	$(GO) test -count=1 -timeout 30m -vet=off -pgo=off -race -run '$(RACE_DEMO)' ./ingest/demo

vet:
	$(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

## lint: the gates style.md §22 names, each failing on any finding
lint: staticcheck tidy-check cyclo deadcode vulncheck

staticcheck:
	$(GO) run $(STATICCHECK) ./...

## cyclo: no function over cyclomatic complexity 15, but those testdata/lint/cyclo-exceptions.txt lists
cyclo:
	testdata/lint/cyclo.sh "$(GO) run $(GOCYCLO)" testdata/lint/cyclo-exceptions.txt

## deadcode: no function the program never reaches, but those testdata/lint/deadcode-known.txt lists
deadcode:
	testdata/lint/deadcode.sh "$(GO) run $(DEADCODE)" testdata/lint/deadcode-known.txt

## vulncheck: govulncheck on a database built from $(VULNDB). Fails on a vulnerability the code
## reaches in a module unless testdata/vulndb/accepted.txt explains it; names those of the
## standard library, whose fix is the Go toolchain the machine has
vulncheck:
	@$(GO) -C testdata/vulndb test -count=1 ./...
	@db=$$(mktemp -d) && trap 'rm -rf "$$db"' EXIT && \
	$(GO) -C testdata/vulndb run . -module $(VULNDB) -out "$$db" && \
	$(GO) run $(GOVULNCHECK) -db "file://$$db" -format json ./... | \
		$(GO) -C testdata/vulndb run ./triage -accept accepted.txt

## tidy-check: go.mod and go.sum say exactly what the code imports
tidy-check:
	$(GO) mod tidy -diff

## bench: the long benchmarks (GB-sized corpora), side by side with awk and wc
bench: build
	$(GO) test -run '^$$' -bench . -benchmem ./ingest/... ./analysis/...
	testdata/bench/bench.sh
	testdata/bench/ingest.sh
	$(MAKE) bench-gui

## bench-scale: both of issue 14's scale benchmarks below (also in bench)
bench-scale: bench-ingest bench-million

## bench-ingest: flows against naive awk and wc -l, and import into a workspace (new, and the next day's) against in memory (time,
## peak RSS), on independent 2 M-session corpora: long and short Nutanix lines, NSX (also in bench)
bench-ingest: build
	testdata/bench/ingest.sh

## bench-check: check of 1 M conversations against a 500-rule policy, beside the synthesis of the same (also in bench)
bench-check:
	$(GO) test -run '^$$' -bench 'Check1M|SynthesizeSame1M' -benchtime 3x -benchmem ./analysis/policy

## bench-million: rules, check, export --xlsx and the app over two 1 M-conversation workspaces (also in bench);
## BASE=other/flowsleuth runs it beside
bench-million: build
	BASE=$(BASE) testdata/bench/million.sh

## pgo: remake default.pgo, the profile `go build` optimises the binary with, from the benchmarks' commands
pgo: deps
	testdata/bench/pgo.sh

## bench-gui: the UI's event-loop latency while importing the 1.7 GB corpus, beside idle
bench-gui: build
	testdata/gui/latency.sh

## bench-listen: flowsleuth listen vs rsyslog on loopback, UDP and TCP, same sender (loggen)
bench-listen: build
	testdata/bench/listen.sh

## bench-store: 10 M sessions through two collectors into a private ClickHouse server: the conversation
## table's time and the laptop's memory from the store beside the same from a workspace; ingest rates
bench-store: build deps
	testdata/bench/store.sh

## fuzz: a short run of every fuzz target ($(FUZZTIME) each)
fuzz: deps
	@for pkg in $$($(GO) list ./...); do \
		for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
			echo "== $$pkg $$f"; \
			$(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
		done; \
	done

clean:
	rm -rf bin $(DIST) testdata/bench/out
