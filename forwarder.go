package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/flowsleuth/flowsleuth/analysis/clickhouse"
	"github.com/flowsleuth/flowsleuth/analysis/workspace"
)

// forwarder is a collector's link to its store: it sends the workspace's
// journal of session records (Drain), and for a listener after every
// commit (Kick), in the background. It connects when it first sends, and
// again after a failure: a collector runs while its store is down.
type forwarder struct {
	url   string
	addr  clickhouse.Address
	store *clickhouse.Store // nil until connected; guarded by drain
	ws    *workspace.Workspace
	coll  clickhouse.Collector

	kick chan struct{}
	quit chan struct{}
	done chan struct{}

	drain sync.Mutex // one Drain at a time
	mu    sync.Mutex // guards sent and err
	sent  int64
	last  int64 // sent by the Drain under way
	err   error
}

// collector attaches the workspace to the store at url (--store) and
// returns its forwarder; nil without --store. A workspace holding data
// imported without the store cannot become a collector. A workspace
// attached already runs while the store is down (its records wait); the
// first attachment needs the store to answer, so that a mistyped address
// does not become the collector's.
func (c *cli) collector(ctx context.Context, ws *workspace.Workspace) (*forwarder, error) {
	if c.store == "" {
		return nil, nil
	}
	addr, err := clickhouse.ParseURL(c.store)
	if err != nil {
		return nil, usagef("--store: %v", err)
	}
	f := &forwarder{url: c.store, addr: addr, ws: ws}
	if cur, _, err := ws.Attachment(ctx); err != nil {
		return nil, err
	} else if cur != addr.String() {
		if f.store, err = clickhouse.Open(ctx, c.store); err != nil {
			return nil, err
		}
	}
	id, err := ws.Attach(ctx, addr.String())
	if err != nil {
		f.Close()
		if errors.Is(err, workspace.ErrNotEmpty) {
			return nil, fmt.Errorf("%w: a collector's workspace starts empty (give --workspace NEW.flowsleuth), "+
				"so that the store holds every session it counted", err)
		}
		return nil, err
	}
	host, _ := os.Hostname()
	path, err := filepath.Abs(ws.Path())
	if err != nil {
		path = ws.Path()
	}
	f.coll = clickhouse.Collector{ID: id, Name: host, Workspace: path}
	return f, nil
}

// Drain sends everything the journal holds, connecting first if need be.
func (f *forwarder) Drain(ctx context.Context) (int64, error) {
	f.drain.Lock()
	defer f.drain.Unlock()
	if f.store == nil {
		s, err := clickhouse.Open(ctx, f.url)
		if err != nil {
			f.setErr(err)
			return 0, err
		}
		f.store = s
	}
	n, err := f.store.Forward(ctx, f.ws, f.coll, func(sent int64) {
		f.mu.Lock()
		f.sent += sent - f.last
		f.last = sent
		f.mu.Unlock()
	})
	f.setErr(err)
	if err != nil { // reconnect next time: the server may have gone
		f.store.Close()
		f.store = nil
	}
	return n, err
}

func (f *forwarder) setErr(err error) {
	f.mu.Lock()
	f.err, f.last = err, 0
	f.mu.Unlock()
}

// Close closes the connection to the store.
func (f *forwarder) Close() {
	f.drain.Lock()
	defer f.drain.Unlock()
	if f.store != nil {
		f.store.Close()
		f.store = nil
	}
}

// Start drains in the background whenever kicked, and every minute (a
// store that was down gets what waited).
func (f *forwarder) Start() {
	f.kick, f.quit, f.done = make(chan struct{}, 1), make(chan struct{}), make(chan struct{})
	go func() {
		defer close(f.done)
		t := time.NewTicker(time.Minute)
		defer t.Stop()
		for {
			select {
			case <-f.quit:
				return
			case <-f.kick:
			case <-t.C:
			}
			f.Drain(context.Background())
		}
	}()
}

// Kick asks the background loop to drain; it never blocks.
func (f *forwarder) Kick() {
	select {
	case f.kick <- struct{}{}:
	default:
	}
}

// Stop ends the background loop, drains a last time and closes the store.
func (f *forwarder) Stop() error {
	if f.quit != nil {
		close(f.quit)
		<-f.done
	}
	_, err := f.Drain(context.Background())
	f.Close()
	return err
}

// Status says what was sent, and what waits when the store failed.
func (f *forwarder) Status(ctx context.Context) string {
	f.mu.Lock()
	sent, err := f.sent, f.err
	f.mu.Unlock()
	s := fmt.Sprintf("store %s: %s session records sent", f.addr, group(sent))
	if err != nil {
		_, waiting, _ := f.ws.Unforwarded(ctx)
		s += fmt.Sprintf("; %s wait in the workspace (%v)", group(waiting), err)
	}
	return s
}

// forwardImport sends what an import journaled to the store and says so.
func (c *cli) forwardImport(fw *forwarder) error {
	ctx := context.Background()
	start := time.Now()
	n, err := fw.Drain(ctx)
	fw.Close()
	if err != nil {
		_, waiting, _ := fw.ws.Unforwarded(ctx)
		return fmt.Errorf("store %s: %w (%s session records sent; %s wait in the workspace for the next --store run)",
			fw.addr, err, group(n), group(waiting))
	}
	secs := max(time.Since(start).Seconds(), 1e-3)
	fmt.Fprintf(c.stdout, "store %s: %s session records sent in %.2f s (%s/s)\n", fw.addr, group(n), secs,
		group(int64(float64(n)/secs)))
	return nil
}
