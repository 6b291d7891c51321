# distinct.awk: N Nutanix [Destroy] lines, every one a different conversation
# (unique source address), for the workspace benchmark. Usage:
#   awk -v n=1000000 -f testdata/bench/distinct.awk > distinct.log
BEGIN {
	for (i = 0; i < n; i++) {
		s = i % 60; m = int(i / 60) % 60; h = int(i / 3600) % 24
		printf "<134>2025-04-10T%02d:%02d:%02d.000000+00:00 ahv-%d Genesis_1: INFO:2025/04/10 %02d:%02d:%02d  [ff16a6fb-ff89-4c2d-a9c8-f67030f93d79] Discover-Traffic [Destroy] SRC=10.%d.%d.%d DST=172.16.%d.1 PROTO=TCP SPORT=%d DPORT=%d ACTION=MONITOR DIRECTION=%s ORIG: PKTS=%d BYTES=%d REPLY: PKTS=%d BYTES=%d\n", \
			h, m, s, i % 3, h, m, s, int(i / 65536) % 256, int(i / 256) % 256, i % 256, i % 200, 32768 + i % 28000, 1024 + i % 50000, \
			(i % 2 ? "INBOUND" : "OUTBOUND"), 1 + i % 20, 60 + i % 9000, i % 15, (i * 7) % 20000
	}
}
