package listen

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"sync"
	"time"
)

// handshakeTimeout bounds a TLS handshake.
const handshakeTimeout = 10 * time.Second

// accept takes connections until l is closed. Senders outside the
// allowlist and connections over MaxConns are closed at once.
func (s *Server) accept(l net.Listener, secure bool, wg *sync.WaitGroup) {
	for {
		conn, err := l.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) || s.ctx.Err() != nil {
				return
			}
			time.Sleep(10 * time.Millisecond) // e.g. out of file descriptors
			continue
		}
		addr := remoteAddr(conn)
		if !s.allowed(addr) {
			s.reject(addr)
			conn.Close()
			continue
		}
		if !s.track(conn) {
			s.c.refused.Add(1)
			conn.Close()
			continue
		}
		wg.Go(func() {
			defer s.untrack(conn)
			s.serveConn(conn, addr, secure)
		})
	}
}

func remoteAddr(c net.Conn) netip.Addr {
	if a, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		return a.AddrPort().Addr().Unmap()
	}
	return netip.Addr{}
}

// track registers conn, or returns false when MaxConns are open or the
// server is stopping.
func (s *Server) track(c net.Conn) bool {
	s.connMu.Lock()
	defer s.connMu.Unlock()
	if len(s.conns) >= s.cfg.MaxConns || s.ctx.Err() != nil {
		return false
	}
	s.conns[c] = struct{}{}
	s.c.open.Add(1)
	return true
}

func (s *Server) untrack(c net.Conn) {
	c.Close()
	s.connMu.Lock()
	delete(s.conns, c)
	s.connMu.Unlock()
	s.c.open.Add(-1)
}

// serveConn reads one connection's messages into the queue, waiting when
// the queue is full: TCP senders are slowed down, never dropped.
func (s *Server) serveConn(conn net.Conn, addr netip.Addr, secure bool) {
	snd := s.c.sender(addr)
	if secure {
		tc := tls.Server(conn, s.tlsConf)
		ctx, cancel := context.WithTimeout(s.ctx, handshakeTimeout)
		err := tc.HandshakeContext(ctx)
		cancel()
		if err != nil {
			s.c.tlsErr.Add(1)
			return
		}
		conn = tc
	}
	dc := &deadlineConn{Conn: conn, idle: s.cfg.ConnIdle, frame: s.cfg.FrameTimeout}
	f := newFramer(dc, s.cfg.MaxMessage)
	dc.buffered = f.r.Buffered
	f.onFrame = dc.frameDone
	ch := getChunk()
	defer func() { s.enqueueWait(ch) }() // what was read before the end
	for {
		if s.archiveWait() {
			dc.frameDone() // the wait was the archive's, not the sender's
		}
		msg, err := f.next()
		switch {
		case err == nil:
		case errors.Is(err, ErrOversize):
			s.c.oversize.Add(1)
			snd.oversize.Add(1)
		default:
			s.connEnded(err, snd, f)
			return
		}
		if err == nil {
			s.c.received.Add(1)
			snd.messages.Add(1)
			snd.bytes.Add(int64(len(msg)))
			ch.add(msg, snd)
		}
		// Hand over the frames already buffered together, but never hold
		// one while waiting for the network.
		if ch.len() == 0 || ch.len() < maxChunk && len(ch.data) < s.cfg.MaxMessage && f.ready() {
			continue
		}
		snd.lastSeen.Store(time.Now().UnixNano())
		s.enqueueWait(ch)
		ch = getChunk()
	}
}

// connEnded counts why a connection ended. A stream that cannot be framed
// is recorded with its sender and a sample: the rest of it is lost.
func (s *Server) connEnded(err error, snd *sender, f *framer) {
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, net.ErrClosed):
	case errors.Is(err, os.ErrDeadlineExceeded):
		s.c.timeouts.Add(1)
	case errors.Is(err, ErrBadCount), errors.Is(err, io.ErrUnexpectedEOF):
		s.c.framing.Add(1)
		s.c.noteFraming(fmt.Sprintf("%s: %v, the rest of its stream is lost: %q", snd.addr, err, f.pending(80)))
	}
}
