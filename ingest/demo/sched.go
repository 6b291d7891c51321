package demo

import (
	"math"
	"math/bits"
	"time"
)

func newRNG(seed int64) *rng {
	r := &rng{}
	r.pcg.Seed(uint64(seed), 0x9e3779b97f4a7c15)
	return r
}

func (r *rng) u64() uint64 { return r.pcg.Uint64() }

// intn returns a number in [0, n), n > 0.
func (r *rng) intn(n int) int {
	hi, _ := bits.Mul64(r.u64(), uint64(n))
	return int(hi)
}

// between returns a number in [lo, hi].
func (r *rng) between(lo, hi int) int { return lo + r.intn(hi-lo+1) }

// float returns a number in [0, 1).
func (r *rng) float() float64 { return float64(r.u64()>>11) / (1 << 53) }

// chance reports true with probability p.
func (r *rng) chance(p float64) bool { return r.float() < p }

// logU returns a log-uniform number in [lo, hi): small values are as likely
// per decade as large ones, as sizes and durations of real sessions are.
func (r *rng) logU(s span) float64 {
	if s[0] >= s[1] {
		return s[0]
	}
	return s[0] * math.Exp(r.float()*math.Log(s[1]/s[0]))
}

var hourWeight = [24]float64{1, 1, 1, 1, 1, 1.5, 2.5, 4, 6, 7, 7, 7, 6.5, 7, 7, 7, 6, 4.5, 3.5, 3, 2.5, 2, 1.5, 1}

func newSchedule(start time.Time, days, n int) *schedule {
	s := &schedule{start: start.UnixNano(), n: float64(n), cum: make([]float64, days*24+1)}
	for h := 0; h < days*24; h++ {
		t := start.Add(time.Duration(h) * time.Hour)
		w := hourWeight[t.Hour()]
		if wd := t.Weekday(); wd == time.Saturday || wd == time.Sunday {
			w *= 0.35
		}
		s.cum[h+1] = s.cum[h] + w
	}
	return s
}

// at returns the start of session i (0 ≤ i < n); u in [0, 1) places it in its
// slot. Calls must come with increasing i.
func (s *schedule) at(i int, u float64) int64 {
	last := len(s.cum) - 1
	x := (float64(i) + u) / s.n * s.cum[last]
	for s.bin < last-1 && s.cum[s.bin+1] <= x {
		s.bin++
	}
	frac := (x - s.cum[s.bin]) / (s.cum[s.bin+1] - s.cum[s.bin])
	frac = min(max(frac, 0), 1)
	return s.start + int64(s.bin)*int64(time.Hour) + int64(frac*float64(time.Hour))
}

func (a *entry) before(b *entry) bool { return a.at < b.at || (a.at == b.at && a.seq < b.seq) }

func (q *queue) push(e entry) {
	*q = append(*q, e)
	h := *q
	i := len(h) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !h[i].before(&h[p]) {
			break
		}
		h[i], h[p] = h[p], h[i]
		i = p
	}
}

// replaceTop puts e in place of the first entry (or removes it when e.s is
// nil) and restores the heap order.
func (q *queue) replaceTop(e entry) {
	h := *q
	if e.s == nil {
		last := len(h) - 1
		h[0] = h[last]
		h[last] = entry{}
		h = h[:last]
		*q = h
	} else {
		h[0] = e
	}
	n, i := len(h), 0
	for {
		c := 2*i + 1
		if c >= n {
			return
		}
		if c+1 < n && h[c+1].before(&h[c]) {
			c++
		}
		if !h[c].before(&h[i]) {
			return
		}
		h[i], h[c] = h[c], h[i]
		i = c
	}
}
