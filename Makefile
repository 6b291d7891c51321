# FlowSleuth. `make run` and `make test` install whatever is missing first.
SHELL := /bin/bash
GO    ?= go
BIN   := bin/flowsleuth
# Packages with goroutines of their own: tested under the race detector too.
RACE_PKGS := ./ingest/... ./analysis/... ./app/...
# Fyne's cgo build, and screenshots under Xvfb.
APT_PKGS := gcc libc6-dev pkg-config libgl1-mesa-dev libx11-dev libxcursor-dev libxrandr-dev \
            libxinerama-dev libxi-dev libxxf86vm-dev xvfb x11-apps netpbm
FUZZTIME ?= 10s
# Fyne's packaging tool, pinned (go run fetches it through the module proxy).
FYNE_TOOL := fyne.io/tools/cmd/fyne@v1.7.4
DIST      := dist
PACKAGE   := $(DIST)/flowsleuth-linux-$(shell $(GO) env GOARCH 2>/dev/null).tar.xz
APP_ID    := io.github.flowsleuth
# make install: per user, no root. PREFIX=/usr/local (as root) installs for everyone.
PREFIX    ?= $(HOME)/.local

.PHONY: all deps build run screenshots test vet fmt-check bench bench-check bench-gui bench-scale bench-listen fuzz clean \
        package install uninstall

all: build

## deps: install the missing system packages (Debian/Ubuntu), checking first
deps:
	@command -v $(GO) >/dev/null || { echo "make deps: Go is required (https://go.dev/dl/)"; exit 1; }
	@missing=$$(for p in $(APT_PKGS); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "make deps: installing" $$missing; \
		sudo=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$sudo apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq --no-install-recommends $$missing; \
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

## test: vet, formatting, every test, and the race detector on concurrent packages
test: deps vet fmt-check
	$(GO) test -count=1 ./...
	$(GO) test -count=1 -race $(RACE_PKGS)

vet:
	$(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

## bench: the long benchmarks (GB-sized corpora), side by side with awk and wc
bench: build
	$(GO) test -run '^$$' -bench . -benchmem ./ingest/... ./analysis/...
	testdata/bench/bench.sh
	$(MAKE) bench-gui

## bench-check: check of 1 M conversations against a 500-rule policy, beside the synthesis of the same (also in bench)
bench-check:
	$(GO) test -run '^$$' -bench 'Check1M|SynthesizeSame1M' -benchtime 3x -benchmem ./analysis/policy

## bench-scale: rules, check, export --xlsx and the app over two 1 M-conversation workspaces (also in bench); BASE=other/flowsleuth runs it beside
bench-scale: build
	BASE=$(BASE) testdata/bench/scale.sh

## bench-gui: the UI's event-loop latency while importing the 1.7 GB corpus, beside idle
bench-gui: build
	testdata/gui/latency.sh

## bench-listen: flowsleuth listen vs rsyslog on loopback, UDP and TCP, same sender (loggen)
bench-listen: build
	testdata/bench/listen.sh

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
