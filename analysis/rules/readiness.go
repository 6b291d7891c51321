package rules

import (
	"errors"
	"slices"
	"time"

	"github.com/flowsleuth/flowsleuth/analysis"
	"github.com/flowsleuth/flowsleuth/analysis/services"
)

// Readiness answers "was discovery long enough?": rules synthesised from
// everything observed before a cut, replayed on what came after. A rule
// base that would have blocked much of the held-out traffic was made too
// early; one that admits it all, with the last new legitimate conversation
// days ago, has probably seen the application.
type Readiness struct {
	Cut, End time.Time       // the cut, and the last observation
	Rules    int             // rules synthesised from before the cut
	Trained  analysis.Totals // conversations before the cut (sessions of that period)
	HeldOut  analysis.Totals // conversations after the cut (sessions of that period)
	// InReview counts held-out conversations synthesis would list for review
	// (scans, never answered, only dropped): not counted as blocked.
	InReview int
	// Held holds the held-out conversations, with their sessions after the
	// cut: the table Blocked and Novel number rows of.
	Held *analysis.Table
	// Blocked are the held-out conversations outside review that no rule
	// admits; Novel those first seen after the cut (outside review): the
	// novelties of the held-out period. Both are rows of Held, in order.
	Blocked, Novel []int32
	// BlockedTotals sums Blocked.
	BlockedTotals analysis.Totals
	// LastNew is when the newest legitimate conversation (outside review)
	// was first seen; zero when none has a time.
	LastNew time.Time
}

// Assessed counts the held-out conversations the replay judges: those
// outside review.
func (r *Readiness) Assessed() int { return r.HeldOut.Conversations - r.InReview }

// BlockedShare is the share of the held-out conversations (outside review)
// the rules would have blocked, from 0 to 1.
func (r *Readiness) BlockedShare() float64 {
	if r.Assessed() <= 0 {
		return 0
	}
	return float64(len(r.Blocked)) / float64(r.Assessed())
}

// BlockedSessionShare is the same for sessions of the held-out period.
func (r *Readiness) BlockedSessionShare() float64 {
	if r.HeldOut.Sessions == 0 {
		return 0
	}
	return float64(r.BlockedTotals.Sessions) / float64(r.HeldOut.Sessions)
}

// DaysSinceNew is the time from LastNew to End, in days.
func (r *Readiness) DaysSinceNew() float64 {
	if r.LastNew.IsZero() || r.End.IsZero() {
		return 0
	}
	return r.End.Sub(r.LastNew).Hours() / 24
}

// ErrNoHoldout: the cut leaves nothing before or nothing after it.
var ErrNoHoldout = errors.New("nothing to hold out")

// HoldoutCut returns the cut that holds out the last d of the observations
// of t: their last time minus d.
func HoldoutCut(t *analysis.Table, d time.Duration) (time.Time, error) {
	var last int64
	for i := range t.Len() {
		last = max(last, t.LastNano(i))
	}
	if last == 0 {
		return time.Time{}, errors.New("no conversation has a time: nothing to hold out")
	}
	return unixTime(last).Add(-d), nil
}

// CheckReadiness synthesises rules from the sessions of t that started
// before cut (with synth, which applies the user's edits) and replays the
// sessions from cut on. k decides what is under review. The rules synth
// returns are CheckReadiness's: it lets go of their endpoints' prefixes as
// it indexes them (the Set must share no Rules with one still used).
func CheckReadiness(t *analysis.Table, cut time.Time, k Knobs, synth func(*analysis.Table) (Set, error)) (Readiness, error) {
	r := Readiness{Cut: cut}
	var end int64
	for i := range t.Len() {
		end = max(end, t.LastNano(i))
	}
	r.End = unixTime(end)
	before := t.Window(time.Time{}, cut)
	if before.Len() == 0 || !t.HasSessions(cut, time.Time{}) {
		return r, ErrNoHoldout
	}
	rs, err := synth(before)
	if err != nil {
		return r, err
	}
	r.Rules = len(rs.Rules)
	for i := range before.Len() {
		r.Trained.AddRow(before, i)
	}
	ix := newRuleIndex(rs.Rules)
	rs, before = Set{}, nil // let them go before the held-out window is made
	held := t.Window(cut, time.Time{})
	r.Held = held
	review := ReviewReasons(held, k)
	for i := range held.Len() {
		r.HeldOut.AddRow(held, i)
		if review[i] != "" {
			r.InReview++
			continue
		}
		if !held.First(i).Before(cut) {
			r.Novel = append(r.Novel, int32(i))
		}
		if !ix.admits(held, i) {
			r.Blocked = append(r.Blocked, int32(i))
			r.BlockedTotals.AddRow(held, i)
		}
	}
	r.LastNew = lastNew(t, k)
	return r, nil
}

// lastNew is when the newest conversation outside review was first seen.
func lastNew(t *analysis.Table, k Knobs) time.Time {
	var first int64
	for i, why := range ReviewReasons(t, k) {
		if why == "" {
			first = max(first, t.FirstNano(i))
		}
	}
	return unixTime(first)
}

// ruleIndex finds the rules that may admit a conversation: by protocol and
// destination port, with the rules of wide port ranges kept apart.
type ruleIndex struct {
	rules  []indexedRule
	byPort map[protoPort][]int32
	wide   map[uint8][]int32 // portless protocols and ranges over maxIndexedPorts
}

// indexedRule is what the index keeps of a rule: what Rule.Admits reads,
// the addresses as sets searched by bisection (not the rule, so that the
// rule set can go once the index is made).
type indexedRule struct {
	proto    uint8
	ports    []PortRange
	src, dst addrSet
}

// admits reports what Rule.Admits does for the rule r was made of.
func (r *indexedRule) admits(t *analysis.Table, i int) bool {
	proto := t.Proto(i)
	if proto != r.proto || !r.src.contains(t.Src(i)) || !r.dst.contains(t.Dst(i)) {
		return false
	}
	return portsAdmit(r.ports, proto, t.DPort(i))
}

type protoPort struct {
	proto uint8
	port  uint16
}

const maxIndexedPorts = 1024

// newRuleIndex indexes rules, letting go of each rule's prefixes once its
// sets are made: the rules are spent. On a million conversations the
// rules' prefixes and the index's sets, held together, were the readiness
// line's peak of memory in the app.
func newRuleIndex(rules []Rule) *ruleIndex {
	ix := &ruleIndex{rules: make([]indexedRule, len(rules)), byPort: map[protoPort][]int32{}, wide: map[uint8][]int32{}}
	for i := range rules {
		r := &rules[i]
		s := &r.Service
		ix.rules[i] = indexedRule{proto: s.Proto, ports: s.Ports, src: newAddrSet(&r.Src), dst: newAddrSet(&r.Dst)}
		r.Src.Prefixes, r.Dst.Prefixes = nil, nil
		n := 0
		for _, p := range s.Ports {
			n += int(p.To-p.From) + 1
		}
		if !services.HasPorts(s.Proto) || n > maxIndexedPorts {
			ix.wide[s.Proto] = append(ix.wide[s.Proto], int32(i))
			continue
		}
		for _, p := range s.Ports {
			for port := int(p.From); port <= int(p.To); port++ {
				k := protoPort{s.Proto, uint16(port)}
				ix.byPort[k] = append(ix.byPort[k], int32(i))
			}
		}
	}
	return ix
}

// admits reports whether some rule admits row i of t.
func (ix *ruleIndex) admits(t *analysis.Table, i int) bool {
	proto := t.Proto(i)
	for _, list := range [2][]int32{ix.byPort[protoPort{proto, t.DPort(i)}], ix.wide[proto]} {
		if slices.ContainsFunc(list, func(r int32) bool { return ix.rules[r].admits(t, i) }) {
			return true
		}
	}
	return false
}
