package listen_test

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/flowsleuth/flowsleuth/ingest"
	"github.com/flowsleuth/flowsleuth/ingest/listen"
)

// ExampleNew receives one NSX line over TCP on a port the kernel picks.
func ExampleNew() {
	got := make(chan string, 1)
	srv, err := listen.New(listen.Config{
		TCP:   "127.0.0.1:0",
		Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")},
		Parse: []ingest.Option{ingest.WithSyslogLibrary(true)},
	}, func(b *listen.Batch) {
		for _, ev := range b.Events {
			got <- fmt.Sprintf("%s %s %s:%d -> %s:%d", ev.Host, ev.Vendor, ev.Src, ev.SPort, ev.Dst, ev.DPort)
		}
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	go srv.Run(context.Background())
	defer srv.Close()

	c, err := net.Dial("tcp", srv.Addrs().TCP.String())
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	fmt.Fprintln(c, "<13>1 2024-05-15T19:41:25.001Z esx05 FIREWALL-PKTLOG - - - 8b4a1980 INET match PASS 3041 IN 52 TCP 10.0.0.1/40000->10.0.0.2/443 S SG1")
	select {
	case line := <-got:
		fmt.Println(line)
	case <-time.After(10 * time.Second):
		fmt.Println("nothing received")
	}
	// Output: esx05 nsx4 10.0.0.1:40000 -> 10.0.0.2:443
}
