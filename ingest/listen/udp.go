package listen

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
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
