//go:build !linux

package listen

import (
	"errors"
	"net"
)

// tuneUDP asks for the receive buffer; the granted size and kernel drops
// are not known on this platform.
func (s *Server) tuneUDP() error {
	return s.udp.SetReadBuffer(s.cfg.ReadBuffer)
}

// readUDP reads datagrams one at a time until the socket is closed.
func (s *Server) readUDP() {
	buf := make([]byte, s.cfg.MaxMessage+1)
	var last udpSource
	for {
		n, from, err := s.udp.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		ch := getChunk()
		ch.udp = true
		s.datagram(ch, buf[:n], n > s.cfg.MaxMessage, from.Addr(), &last)
		s.settle(&last)
		s.enqueue(ch)
	}
}
