package listen

import (
	"net/netip"
	"time"
)

// udpSource remembers the last sender a reader saw, to spare look-ups,
// and what it sent since the counters were last updated.
type udpSource struct {
	addr          netip.Addr
	snd           *sender
	ok            bool
	msgs, bytes   int64 // not yet added to snd
	received, big int64 // not yet added to the server's counters
}

// settle adds the pending counts to the sender's and the server's
// counters: once per recvmmsg call and when the sender changes, not per
// datagram.
func (s *Server) settle(last *udpSource) {
	if last.snd == nil {
		return
	}
	if last.msgs > 0 || last.big > 0 {
		last.snd.messages.Add(last.msgs)
		last.snd.bytes.Add(last.bytes)
		last.snd.oversize.Add(last.big)
		last.snd.lastSeen.Store(time.Now().UnixNano())
	}
	s.c.received.Add(last.received)
	s.c.oversize.Add(last.big)
	last.msgs, last.bytes, last.received, last.big = 0, 0, 0, 0
}

// datagram takes one received datagram (n bytes of it in buf; truncated
// when it did not fit) into ch. It never waits on the consumer: a message
// the queue has no room for is dropped and counted.
func (s *Server) datagram(ch *chunk, buf []byte, truncated bool, addr netip.Addr, last *udpSource) {
	addr = addr.Unmap()
	if addr != last.addr || last.snd == nil {
		s.settle(last)
		last.addr, last.ok, last.snd = addr, s.allowed(addr), s.c.sender(addr)
	}
	if !last.ok {
		s.reject(addr)
		return
	}
	if truncated || len(buf) > s.cfg.MaxMessage {
		last.big++
		return
	}
	msg := trimTrailer(buf)
	if len(msg) == 0 {
		return
	}
	last.received++
	last.msgs++
	last.bytes += int64(len(msg))
	if s.archDown.Load() { // it could not be archived: do not hold it
		s.c.archiveDropped.Add(1)
		return
	}
	if !s.fits(ch, len(msg)) {
		s.c.dropped.Add(1)
		return
	}
	ch.add(msg, last.snd)
}

// raiseKernel records the kernel's drop counter when it grew.
func (s *Server) raiseKernel(n int64) {
	for {
		cur := s.c.kernel.Load()
		if n <= cur || s.c.kernel.CompareAndSwap(cur, n) {
			return
		}
	}
}
