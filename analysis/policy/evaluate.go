package policy

import (
	"net/netip"
	"runtime"
	"sync"

	"github.com/flowsleuth/flowsleuth/analysis"
)

// Evaluate returns one verdict per row of t, in the same order. It runs on
// every processor.
func (p *Program) Evaluate(t *analysis.Table) []Verdict {
	n := t.Len()
	out := make([]Verdict, n)
	const chunk = 4096
	workers := min(runtime.GOMAXPROCS(0), (n+chunk-1)/chunk)
	var next int64
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := newWorker(p)
			for {
				mu.Lock()
				lo := int(next)
				next += chunk
				mu.Unlock()
				if lo >= n {
					return
				}
				for i := lo; i < min(lo+chunk, n); i++ {
					f := rowFlow(t, i)
					out[i] = w.evaluate(&f)
				}
			}
		}()
	}
	wg.Wait()
	return out
}

// worker evaluates conversations, keeping the strings it makes so that
// verdicts share them.
type worker struct {
	p      *Program
	points map[pointKey]string
	whys   map[whyKey]string
	uncs   map[int32]string
}

type pointKey struct {
	dir uint8
	at  netip.Addr
}

type whyKey struct {
	outcome      Outcome
	rule, second int32
	dir          uint8
}

func newWorker(p *Program) *worker {
	return &worker{p: p, points: map[pointKey]string{}, whys: map[whyKey]string{}, uncs: map[int32]string{}}
}

// noRule is the rule of a verdict no enforcement point gave.
var noRule = RuleRef{Index: -1}

// noPoint is the Why of a conversation no enforcement point saw.
const noPoint = "no enforcement point: neither end is a workload these policies protect"

func (w *worker) evaluate(c *flow) Verdict {
	d := newDecision()
	if w.p.ntx != nil {
		w.p.evalNutanix(c, &d)
	}
	if w.p.nsx != nil && d.outcome != Blocked {
		w.p.evalNSX(c, &d)
	}
	v := Verdict{Outcome: d.outcome, Hits: d.hits, Rule: &noRule}
	if !d.set {
		v.Why = noPoint
		return v
	}
	v.Rule = &w.p.rules[d.rule]
	v.Point = w.point(d.dir, d.at)
	v.Why = w.why(&d)
	if d.unc >= 0 {
		v.Uncertain = w.uncertain(d.unc, d.unc == d.rule)
	}
	return v
}

// point renders "OUT at 10.20.10.11 (web-01)".
func (w *worker) point(dir uint8, at netip.Addr) string {
	k := pointKey{dir, at}
	if s, ok := w.points[k]; ok {
		return s
	}
	s := "IN at "
	if dir == dirOut {
		s = "OUT at "
	}
	s += at.String()
	if i, ok := w.p.vmAt[at]; ok && w.p.env.VMs[i].Name != "" {
		s += " (" + w.p.env.VMs[i].Name + ")"
	}
	w.points[k] = s
	return s
}

var sideName = [...]string{dirNone: "", dirOut: "the source's egress", dirIn: "the destination's ingress"}

// why renders the one line for people.
func (w *worker) why(d *decision) string {
	k := whyKey{d.outcome, d.rule, d.second, d.dir}
	if s, ok := w.whys[k]; ok {
		return s
	}
	r := w.p.rules[d.rule]
	var s string
	switch d.outcome {
	case Allowed:
		s = "allowed by " + r.String() + " at " + sideName[d.dir]
		if d.second >= 0 {
			s += "; also by " + w.p.rules[d.second].String()
		}
	case WouldBlock:
		s = "would be blocked by " + r.String() + " at " + sideName[d.dir] + " (the policy is in monitor mode)"
	default:
		s = "blocked by " + r.String() + " at " + sideName[d.dir]
	}
	w.whys[k] = s
	return s
}

// uncertain says which rule an unresolved reference makes uncertain: one
// consulted first that may have matched, or the deciding rule itself.
func (w *worker) uncertain(ref int32, deciding bool) string {
	k := ref << 1
	if deciding {
		k |= 1
	}
	if s, ok := w.uncs[k]; ok {
		return s
	}
	s := w.p.rules[ref].String() + " may also match: it references something unresolved (see the problems listed)"
	if deciding {
		s = "the deciding rule " + w.p.rules[ref].String() + " references something unresolved (see the problems listed)"
	}
	w.uncs[k] = s
	return s
}
