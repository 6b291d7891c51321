package listen

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// bindUDP opens the UDP socket with a large receive buffer and kernel drop
// reporting (SO_RXQ_OVFL).
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
	raw, err := conn.SyscallConn()
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	raw.Control(func(fd uintptr) {
		s.rcvGot = setReadBuffer(int(fd), s.cfg.ReadBuffer)
		syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RXQ_OVFL, 1)
		if l, err := os.Readlink("/proc/self/fd/" + strconv.Itoa(int(fd))); err == nil {
			s.udpInode = strings.TrimSuffix(strings.TrimPrefix(l, "socket:["), "]")
		}
	})
	return nil
}

// setReadBuffer asks for a receive buffer of n bytes: SO_RCVBUF, capped by
// net.core.rmem_max, then SO_RCVBUFFORCE (allowed to root and
// CAP_NET_ADMIN) when the cap bit. It returns what the kernel grants, as
// getsockopt reports it (twice the usable size: the kernel counts its
// bookkeeping).
func setReadBuffer(fd, n int) int {
	syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_RCVBUF, n)
	got, _ := syscall.GetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_RCVBUF)
	if got < 2*n {
		if syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_RCVBUFFORCE, n) == nil {
			got, _ = syscall.GetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_RCVBUF)
		}
	}
	return got
}

// readUDP reads datagrams until the socket is closed. It never waits on
// the consumer: when the queue is full the message is dropped and counted.
func (s *Server) readUDP() {
	buf := make([]byte, s.cfg.MaxMessage+1)
	oob := make([]byte, 128)
	var last netip.Addr
	var lastSnd *sender
	lastOK := false
	for {
		n, oobn, _, from, err := s.udp.ReadMsgUDPAddrPort(buf, oob)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue // e.g. ICMP errors surfacing on the socket
		}
		if oobn > 0 {
			s.noteOverflow(oob[:oobn])
		}
		addr := from.Addr().Unmap()
		if addr != last || lastSnd == nil {
			last, lastOK, lastSnd = addr, s.allowed(addr), s.c.sender(addr)
		}
		if !lastOK {
			s.reject(addr)
			continue
		}
		lastSnd.lastSeen.Store(time.Now().UnixNano())
		if n > s.cfg.MaxMessage {
			s.c.oversize.Add(1)
			lastSnd.oversize.Add(1)
			continue
		}
		msg := trimTrailer(buf[:n])
		if len(msg) == 0 {
			continue
		}
		s.c.received.Add(1)
		lastSnd.messages.Add(1)
		lastSnd.bytes.Add(int64(len(msg)))
		m := newMessage(msg, lastSnd)
		select {
		case s.queue <- m:
		default:
			s.c.dropped.Add(1)
			freeMessage(m)
		}
	}
}

// noteOverflow reads the SO_RXQ_OVFL control message: the datagrams the
// kernel dropped on this socket so far.
func (s *Server) noteOverflow(oob []byte) {
	const hdr = 16 // struct cmsghdr on 64-bit Linux: len uint64, level, type int32
	for len(oob) >= hdr+4 {
		l := int(binary.NativeEndian.Uint64(oob))
		level := int32(binary.NativeEndian.Uint32(oob[8:]))
		typ := int32(binary.NativeEndian.Uint32(oob[12:]))
		if l < hdr || l > len(oob) {
			return
		}
		if level == syscall.SOL_SOCKET && typ == syscall.SO_RXQ_OVFL {
			s.raiseKernel(int64(binary.NativeEndian.Uint32(oob[hdr:])))
		}
		oob = oob[(l+7)&^7:]
	}
}

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
