# tagged.awk: N conversations of K Nutanix [Destroy] lines each, every line
# under another policy of P (a list of K tags per conversation, many
# distinct lists) and reported by another host of H, on another day: the
# shape with long tag lists and many hosts, beside distinct.awk's one tag
# and three hosts. Usage:
#   awk -v n=1000000 -v k=4 -v p=60 -v h=200 -f testdata/bench/tagged.awk > tagged.log
BEGIN {
	if (!k) k = 4; if (!p) p = 60; if (!h) h = 200
	for (i = 0; i < n; i++) {
		s = i % 60; m = int(i / 60) % 60; hr = int(i / 3600) % 24
		src = sprintf("10.%d.%d.%d", int(i / 65536) % 256, int(i / 256) % 256, i % 256)
		dir = (i % 2 ? "INBOUND" : "OUTBOUND")
		for (j = 0; j < k; j++) {
			pol = (i * 7 + j * (i % 37 + 1)) % p; host = (i * 3 + j * (i % 97 + 1)) % h; day = 7 + j
			printf "<134>2025-04-%02dT%02d:%02d:%02d.000000+00:00 ahv-%d Genesis_1: INFO:2025/04/%02d %02d:%02d:%02d  [ff16a6fb-ff89-4c2d-a9c8-%012d] Policy-%d [Destroy] SRC=%s DST=172.16.%d.1 PROTO=TCP SPORT=%d DPORT=%d ACTION=MONITOR DIRECTION=%s ORIG: PKTS=%d BYTES=%d REPLY: PKTS=%d BYTES=%d\n", \
				day, hr, m, s, host, day, hr, m, s, pol, pol, src, i % 200, 32768 + (i + j) % 28000, 1024 + i % 50000, \
				dir, 1 + i % 20, 60 + i % 9000, (i + j) % 15, (i * 7) % 20000
		}
	}
}
