//go:build linux

package listen

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"syscall"
	"unsafe"
)

// tuneUDP asks for the receive buffer, turns on SO_RXQ_OVFL (each datagram
// then carries the socket's drop counter) and finds the socket's inode for
// /proc/net/udp.
func (s *Server) tuneUDP() error {
	raw, err := s.udp.SyscallConn()
	if err != nil {
		return err
	}
	return raw.Control(func(fd uintptr) {
		s.rcvGot = setReadBuffer(int(fd), s.cfg.ReadBuffer)
		syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RXQ_OVFL, 1)
		if l, err := os.Readlink("/proc/self/fd/" + strconv.Itoa(int(fd))); err == nil {
			s.udpInode = strings.TrimSuffix(strings.TrimPrefix(l, "socket:["), "]")
		}
	})
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

// udpBatch is how many datagrams one recvmmsg call may return: a chunk.
const udpBatch = maxChunk

// mmsghdr is struct mmsghdr.
type mmsghdr struct {
	hdr syscall.Msghdr
	n   uint32
}

// readUDP reads datagrams with recvmmsg, up to udpBatch per system call,
// through the runtime's poller, until the socket is closed.
func (s *Server) readUDP() {
	raw, err := s.udp.SyscallConn()
	if err != nil {
		return
	}
	size := s.cfg.MaxMessage + 1
	slab := make([]byte, udpBatch*size)
	var (
		msgs  [udpBatch]mmsghdr
		iov   [udpBatch]syscall.Iovec
		names [udpBatch]syscall.RawSockaddrInet6
		oob   [udpBatch][64]byte
		last  udpSource
	)
	for i := range msgs {
		iov[i].Base = &slab[i*size]
		iov[i].SetLen(size)
		msgs[i].hdr.Iov = &iov[i]
		msgs[i].hdr.Iovlen = 1
		msgs[i].hdr.Name = (*byte)(unsafe.Pointer(&names[i]))
		msgs[i].hdr.Control = &oob[i][0]
	}
	for {
		var n int
		var errno syscall.Errno
		err := raw.Read(func(fd uintptr) bool {
			for i := range msgs {
				msgs[i].hdr.Namelen = syscall.SizeofSockaddrInet6
				msgs[i].hdr.SetControllen(len(oob[i]))
				msgs[i].hdr.Flags = 0
			}
			r, _, e := syscall.Syscall6(syscall.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&msgs[0])), udpBatch,
				syscall.MSG_DONTWAIT, 0, 0)
			if e == syscall.EAGAIN {
				return false // wait until readable
			}
			n, errno = int(r), e
			return true
		})
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		if errno != 0 {
			continue // e.g. ICMP errors surfacing on the socket
		}
		if n == udpBatch {
			s.press() // the socket holds a backlog
		}
		// No pause after a small batch to let datagrams gather: a sleeping
		// goroutine is woken by the runtime's timers, which run late (12 to
		// 18 ms instead of 0.5 in execution traces) when every processor is
		// busy, while the poller wakes the reader as soon as the socket is
		// readable.
		ch := getChunk()
		ch.udp = true
		for i := 0; i < n; i++ {
			h := &msgs[i].hdr
			if h.Controllen > 0 {
				s.noteOverflow(oob[i][:h.Controllen])
			}
			m := int(msgs[i].n)
			s.datagram(ch, slab[i*size:i*size+min(m, size)], h.Flags&syscall.MSG_TRUNC != 0, sockaddr(&names[i]), &last)
		}
		s.settle(&last)
		s.enqueue(ch)
	}
}

// sockaddr reads a sockaddr_in or sockaddr_in6.
func sockaddr(rs *syscall.RawSockaddrInet6) netip.Addr {
	switch rs.Family {
	case syscall.AF_INET:
		r4 := (*syscall.RawSockaddrInet4)(unsafe.Pointer(rs))
		return netip.AddrFrom4(r4.Addr)
	case syscall.AF_INET6:
		return netip.AddrFrom16(rs.Addr)
	}
	return netip.Addr{}
}

// noteOverflow reads the SO_RXQ_OVFL control message: the datagrams the
// kernel dropped on this socket so far.
func (s *Server) noteOverflow(oob []byte) {
	for len(oob) >= syscall.SizeofCmsghdr {
		h := (*syscall.Cmsghdr)(unsafe.Pointer(&oob[0]))
		l := int(h.Len)
		if l < syscall.SizeofCmsghdr || l > len(oob) {
			return
		}
		if h.Level == syscall.SOL_SOCKET && h.Type == syscall.SO_RXQ_OVFL && l >= syscall.SizeofCmsghdr+4 {
			s.raiseKernel(int64(*(*uint32)(unsafe.Pointer(&oob[syscall.SizeofCmsghdr]))))
		}
		l = (l + int(unsafe.Sizeof(uintptr(0))) - 1) &^ (int(unsafe.Sizeof(uintptr(0))) - 1)
		if l > len(oob) {
			return
		}
		oob = oob[l:]
	}
}
