package listen

import (
	"bufio"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"
)

// bindUDP opens the UDP socket and tunes it (tuneUDP: a large receive
// buffer and kernel drop reporting where the platform has them).
func (s *Server) bindUDP() error {
	addr, err := net.ResolveUDPAddr("udp", s.cfg.UDP)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	conn, err := net.ListenUDP("udp", addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	s.udp = conn
	s.rcvReq = s.cfg.ReadBuffer
	return s.tuneUDP()
}

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

// pollKernelDrops reads the socket's drop counter in /proc/net/udp{,6}: it
// also counts drops after which no datagram arrived to carry the cmsg.
func (s *Server) pollKernelDrops() {
	if s.udpInode == "" {
		return
	}
	for _, name := range []string{"/proc/net/udp", "/proc/net/udp6"} {
		if n, ok := procDrops(name, s.udpInode); ok {
			s.raiseKernel(n)
			return
		}
	}
}

// procDrops finds the socket with inode in a /proc/net/udp table and
// returns its drops column (the last).
func procDrops(name, inode string) (int64, bool) {
	f, err := os.Open(name)
	if err != nil {
		return 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 13 && fields[9] == inode {
			n, err := strconv.ParseInt(fields[len(fields)-1], 10, 64)
			return n, err == nil
		}
	}
	return 0, false
}
