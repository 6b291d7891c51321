# sessions.awk: an independent count of the sessions and counters of a log
# written by testdata/bench/hitlog, to cross-check its truth and FlowSleuth's
# conversation table with code that shares nothing with either. It relies on
# what hitlog guarantees: no 5-tuple is used twice in a Nutanix log, so each
# (host, side, 5-tuple) is one session whose last counters are its totals;
# in an NSX log each match line is one session and the TERM lines carry the
# counters. A connection logged at both ends counts once: per conversation,
# the larger of its two sides. Prints src,dst,proto,dport,sessions,packets,bytes
# unsorted, without a header. Usage: mawk -f sessions.awk FILE | sort
{
	src = ""; dst = ""; proto = ""; sport = ""; dport = "0"; side = ""; pk = 0; by = 0; term = 0
	if (index($0, " SRC=")) { # Nutanix
		for (i = 1; i <= NF; i++) {
			f = $i
			if (f ~ /^SRC=/) src = substr(f, 5)
			else if (f ~ /^DST=/) dst = substr(f, 5)
			else if (f ~ /^PROTO=/) proto = substr(f, 7)
			else if (f ~ /^SPORT=/) sport = substr(f, 7)
			else if (f ~ /^DPORT=/) dport = substr(f, 7)
			else if (f ~ /^DIRECTION=/) side = substr(f, 11)
			else if (f ~ /^PKTS=/) pk += substr(f, 6)
			else if (f ~ /^BYTES=/) by += substr(f, 7)
		}
		conv = src "," dst "," proto "," dport
		key = $2 "|" side "|" conv "|" sport
		if (!(key in last)) sessions[side SUBSEP conv]++
		if (pk + by > 0) { # cumulative: the latest line's counters replace the earlier ones
			packets[side SUBSEP conv] += pk - lastpk[key]; bytes[side SUBSEP conv] += by - lastby[key]
			lastpk[key] = pk; lastby[key] = by
		}
		last[key] = 1
	} else if ((at = index($0, " INET ")) > 0) { # NSX
		n = split(substr($0, at + 1), w, " ")
		term = (w[2] == "TERM")
		for (i = 3; i <= n; i++) if (w[i] == "IN" || w[i] == "OUT") { side = w[i]; break }
		for (; i <= n; i++) if (index(w[i], "->")) break
		proto = w[i - 1]; if (proto == "FIN" || proto == "RST" || proto == "TIMEOUT") proto = w[i - 2]
		split(w[i], ends, "->"); split(ends[1], sp, "/"); split(ends[2], dp, "/")
		src = sp[1]; dst = dp[1]; if (dp[2] != "") dport = dp[2]
		conv = src "," dst "," proto "," dport
		if (term) {
			split(w[i + 1], pp, "/"); split(w[i + 2], bb, "/")
			packets[side SUBSEP conv] += pp[1] + pp[2]; bytes[side SUBSEP conv] += bb[1] + bb[2]
		} else {
			sessions[side SUBSEP conv]++
		}
	}
	if (src != "") convs[conv] = 1
}
END {
	for (c in convs) {
		s = 0; p = 0; b = 0
		for (k = 1; k <= 4; k++) {
			sd = (k == 1 ? "INBOUND" : k == 2 ? "OUTBOUND" : k == 3 ? "IN" : "OUT")
			if (sessions[sd SUBSEP c] > s) s = sessions[sd SUBSEP c]
			if (packets[sd SUBSEP c] > p) p = packets[sd SUBSEP c]
			if (bytes[sd SUBSEP c] > b) b = bytes[sd SUBSEP c]
		}
		printf "%s,%.0f,%.0f,%.0f\n", c, s, p, b
	}
}
