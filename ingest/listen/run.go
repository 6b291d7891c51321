package listen

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"time"
)

// New checks cfg, binds its sockets and opens the archive directory; Run
// serves. It returns ErrNoAllowlist when no sender would be accepted.
func New(cfg Config, h Handler) (*Server, error) {
	cfg.setDefaults()
	if !cfg.AllowAny && len(cfg.Allow) == 0 {
		return nil, ErrNoAllowlist
	}
	if cfg.UDP == "" && cfg.TCP == "" && cfg.TLS == "" {
		return nil, errors.New("listen: no address to listen on")
	}
	s := &Server{cfg: cfg, handler: h, c: newCounters(), queue: make(chan *chunk, cfg.Queue),
		done: make(chan struct{}), conns: make(map[net.Conn]struct{}), started0: time.Now(), archRetry: DefaultArchiveRetry}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	if err := s.bind(); err != nil {
		s.closeSockets()
		return nil, err
	}
	if cfg.Archive != "" {
		a, err := newArchive(cfg.Archive, cfg.SegmentSize, cfg.SegmentAge, cfg.HoldSegments)
		if err != nil {
			s.closeSockets()
			return nil, err
		}
		a.busy = s.busy
		s.arch = a
	}
	return s, nil
}

func (s *Server) bind() error {
	if s.cfg.TLS != "" {
		if s.cfg.CertFile == "" || s.cfg.KeyFile == "" {
			return errors.New("listen: TLS needs a certificate and a key")
		}
		cert, err := tls.LoadX509KeyPair(s.cfg.CertFile, s.cfg.KeyFile)
		if err != nil {
			return fmt.Errorf("listen: TLS certificate: %w", err)
		}
		s.tlsConf = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		if s.cfg.ClientCAFile != "" {
			pem, err := os.ReadFile(s.cfg.ClientCAFile)
			if err != nil {
				return fmt.Errorf("listen: client CA: %w", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return fmt.Errorf("listen: client CA %s: no PEM certificate in it", s.cfg.ClientCAFile)
			}
			s.tlsConf.ClientCAs, s.tlsConf.ClientAuth = pool, tls.RequireAndVerifyClientCert
		}
	} else if s.cfg.ClientCAFile != "" {
		return errors.New("listen: a client CA needs TLS")
	}
	if s.cfg.UDP != "" {
		if err := s.bindUDP(); err != nil {
			return err
		}
	}
	var err error
	if s.cfg.TCP != "" {
		if s.tcp, err = net.Listen("tcp", s.cfg.TCP); err != nil {
			return fmt.Errorf("listen: %w", err)
		}
	}
	if s.cfg.TLS != "" {
		if s.tlsL, err = net.Listen("tcp", s.cfg.TLS); err != nil {
			return fmt.Errorf("listen: %w", err)
		}
	}
	return nil
}

// Run serves until ctx is cancelled or Close is called, then stops reading,
// archives and hands over every message already read, closes the archive
// and returns. The error is the first archive error, if any.
func (s *Server) Run(ctx context.Context) error {
	if !s.started.CompareAndSwap(false, true) {
		if s.ctx.Err() != nil {
			return nil // closed before it ran
		}
		return errors.New("listen: Run called twice")
	}
	defer close(s.done)
	var readers sync.WaitGroup
	if s.udp != nil {
		readers.Go(s.readUDP)
	}
	if s.tcp != nil {
		readers.Go(func() { s.accept(s.tcp, false, &readers) })
	}
	if s.tlsL != nil {
		readers.Go(func() { s.accept(s.tlsL, true, &readers) })
	}
	consumed := make(chan struct{})
	go func() { defer close(consumed); s.consume() }()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	s.c.tick()
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case <-s.ctx.Done():
			break loop
		case <-tick.C:
			s.c.tick()
			s.pollKernelDrops()
		}
	}
	s.cancel()
	s.closeSockets()
	readers.Wait()
	close(s.queue)
	<-consumed
	var err error
	if s.arch != nil {
		err = s.arch.close()
	}
	s.archMu.Lock()
	if s.archErr != nil {
		err = s.archErr
	}
	s.archMu.Unlock()
	s.runErr = err
	return err
}

// Close stops the server and waits until Run has returned. It is safe to
// call more than once, and without Run.
func (s *Server) Close() error {
	s.cancel()
	if s.started.CompareAndSwap(false, true) { // Run never ran
		s.once.Do(func() { s.closeSockets(); close(s.done) })
		return nil
	}
	<-s.done
	return nil
}

// Commit tells the server that the workspace holds the first size bytes of
// the archive segment: once a closed segment is wholly committed it is
// compressed (Config.HoldSegments).
func (s *Server) Commit(segment string, size int64) {
	if s.arch != nil {
		s.arch.Commit(segment, size)
	}
}

// closeSockets closes the listeners and every open connection.
func (s *Server) closeSockets() {
	if s.udp != nil {
		s.udp.Close()
	}
	for _, l := range []net.Listener{s.tcp, s.tlsL} {
		if l != nil {
			l.Close()
		}
	}
	s.connMu.Lock()
	for c := range s.conns {
		c.Close()
	}
	s.connMu.Unlock()
}

// Stats returns a snapshot of the counters.
func (s *Server) Stats() Stats {
	st := Stats{Started: s.started0, RcvBufRequest: s.rcvReq, RcvBufGranted: s.rcvGot, Queued: int(s.queuedMsgs.Load())}
	s.c.snapshot(&st)
	if s.arch != nil {
		var gzErr error
		st.ArchiveBytes, st.Segments, st.Uncompressed, st.Segment, gzErr = s.arch.counts()
		if gzErr != nil {
			st.ArchiveErr = gzErr.Error()
		}
	}
	s.archMu.Lock()
	if s.archLast != nil {
		st.ArchiveErr = s.archLast.Error()
	}
	s.archMu.Unlock()
	if st.ArchiveDown = s.archDown.Load(); st.ArchiveDown {
		st.ArchiveDownSince = time.Unix(0, s.archSince.Load())
	}
	return st
}

// Addrs returns the bound addresses.
func (s *Server) Addrs() Addrs {
	var a Addrs
	if s.udp != nil {
		a.UDP = s.udp.LocalAddr()
	}
	if s.tcp != nil {
		a.TCP = s.tcp.Addr()
	}
	if s.tlsL != nil {
		a.TLS = s.tlsL.Addr()
	}
	return a
}
