# naive.awk: the aggregation an admin would write by hand, as the baseline
# for `make bench`. Per conversation (src, dst, proto, dport) it counts lines
# and sums the packet and byte counters, for Nutanix hit logs and NSX DFW
# packet logs. It does none of FlowSleuth's work on sessions, cumulative
# counters, wrappers or malformed lines.
{
  src = ""; dst = ""; proto = ""; dport = ""; pk = 0; by = 0
  if (index($0, " SRC=")) {                      # Nutanix
    for (i = 1; i <= NF; i++) {
      if ($i ~ /^SRC=/) src = substr($i, 5)
      else if ($i ~ /^DST=/) dst = substr($i, 5)
      else if ($i ~ /^PROTO=/) proto = substr($i, 7)
      else if ($i ~ /^DPORT=/) dport = substr($i, 7)
      else if ($i ~ /^PKTS=/) pk += substr($i, 6)
      else if ($i ~ /^BYTES=/) by += substr($i, 7)
    }
  } else if (index($0, "INET")) {                 # NSX
    for (i = 1; i <= NF; i++) {
      if ($i ~ /->/) {
        proto = $(i - 1)
        split($i, ends, "->"); split(ends[1], s, "/"); split(ends[2], d, "/")
        src = s[1]; dst = d[1]; dport = d[2]
        if ($(i + 2) ~ /^[0-9]+\/[0-9]+$/) {
          split($(i + 1), p, "/"); split($(i + 2), b, "/"); pk = p[1] + p[2]; by = b[1] + b[2]
        } else if ($(i + 3) ~ /^[0-9]+\/[0-9]+$/) {
          split($(i + 2), p, "/"); split($(i + 3), b, "/"); pk = p[1] + p[2]; by = b[1] + b[2]
        }
        break
      }
    }
  }
  if (src != "") { k = src "," dst "," proto "," dport; n[k]++; pkts[k] += pk; bytes[k] += by }
}
END { for (k in n) print k "," n[k] "," pkts[k] "," bytes[k] }
