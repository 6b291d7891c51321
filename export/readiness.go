package export

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/flowsleuth/flowsleuth/analysis"
	"github.com/flowsleuth/flowsleuth/analysis/rules"
)

// WriteReadinessTable writes the readiness for people: the periods, the
// shares blocked, the novelties of the held-out period and the blocked
// ones (up to top each; 0 means 50).
func WriteReadinessTable(w io.Writer, r *rules.Readiness, top int) error {
	if top <= 0 {
		top = 50
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "Rules synthesised from before %s: %d rules from %s conversations (%s sessions).\n",
		formatTime(r.Cut), r.Rules, analysis.Thousands(uint64(r.Trained.Conversations)), analysis.Thousands(r.Trained.Sessions))
	fmt.Fprintf(tw, "Replayed on %s to %s: %s conversations (%s sessions), %d of them under review (not judged).\n",
		formatTime(r.Cut), formatTime(r.End), analysis.Thousands(uint64(r.HeldOut.Conversations)), analysis.Thousands(r.HeldOut.Sessions), r.InReview)
	fmt.Fprintf(tw, "Would have blocked: %d of %d conversations (%.1f%%), %s of %s sessions (%.1f%%).\n",
		len(r.Blocked), r.Assessed(), 100*r.BlockedShare(), analysis.Thousands(r.BlockedTotals.Sessions),
		analysis.Thousands(r.HeldOut.Sessions), 100*r.BlockedSessionShare())
	if r.LastNew.IsZero() {
		fmt.Fprintln(tw, "Last new legitimate conversation: unknown (no times in the logs).")
	} else {
		fmt.Fprintf(tw, "Last new legitimate conversation: first seen %s, %.1f days before the last observation.\n", formatTime(r.LastNew), r.DaysSinceNew())
	}
	blocked := rowSet(r.Blocked)
	section := func(title string, rows []int32) {
		fmt.Fprintf(tw, "\n%s: %d\n", title, len(rows))
		if len(rows) == 0 {
			return
		}
		fmt.Fprintln(tw, "  SOURCE\tDESTINATION\tSERVICE\tSESSIONS\tFIRST SEEN\tBLOCKED\t")
		for _, i := range rows[:min(len(rows), top)] {
			t, row := r.Held, int(i)
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\t\n", endpointName(t.Src(row), t.SrcVM(row).VM), endpointName(t.Dst(row), t.DstVM(row).VM),
				serviceLabel(t.Proto(row), t.DPort(row)), analysis.Thousands(t.Sessions(row)), formatTime(t.First(row)), yesNo(blocked[i]))
		}
		if len(rows) > top {
			fmt.Fprintf(tw, "  … and %d more (--top N lists more)\n", len(rows)-top)
		}
	}
	section("New conversations in the held-out period (outside review)", r.Novel)
	section("Held-out conversations the rules would have blocked", r.Blocked)
	return tw.Flush()
}

// rowSet returns the set of rows.
func rowSet(rows []int32) map[int32]bool {
	out := make(map[int32]bool, len(rows))
	for _, i := range rows {
		out[i] = true
	}
	return out
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// WriteReadinessJSON writes the readiness as one JSON object.
func WriteReadinessJSON(w io.Writer, r *rules.Readiness) error {
	flows := func(rows []int32) []jsonFlow {
		out := make([]jsonFlow, len(rows))
		for j, i := range rows {
			out[j] = toJSONFlow(r.Held, int(i), nil)
		}
		return out
	}
	doc := struct {
		Cut                 string     `json:"cut"`
		End                 string     `json:"end"`
		Rules               int        `json:"rules"`
		Trained             jsonTotals `json:"trained"`
		HeldOut             jsonTotals `json:"held_out"`
		InReview            int        `json:"held_out_in_review"`
		BlockedShare        float64    `json:"blocked_share"`
		BlockedSessionShare float64    `json:"blocked_session_share"`
		LastNew             string     `json:"last_new_conversation,omitempty"`
		DaysSinceNew        float64    `json:"days_since_new_conversation"`
		Novel               []jsonFlow `json:"novel"`
		Blocked             []jsonFlow `json:"blocked"`
	}{formatTime(r.Cut), formatTime(r.End), r.Rules, analysisTotals(r.Trained), analysisTotals(r.HeldOut), r.InReview,
		r.BlockedShare(), r.BlockedSessionShare(), formatTime(r.LastNew), r.DaysSinceNew(), flows(r.Novel), flows(r.Blocked)}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}

func analysisTotals(t analysis.Totals) jsonTotals {
	return jsonTotals{Conversations: t.Conversations, Sessions: t.Sessions, Bytes: t.Bytes}
}

// WriteReadinessCSV writes the held-out period's new conversations and the
// blocked ones: the flows CSV columns and a "blocked" column.
func WriteReadinessCSV(w io.Writer, r *rules.Readiness) error {
	cw := NewCSVWriter(w)
	if err := cw.Write(append(append([]string{}, FlowColumns...), "novel", "blocked")); err != nil {
		return err
	}
	seen := map[int32]bool{}
	blocked, novel := rowSet(r.Blocked), rowSet(r.Novel)
	for _, rows := range [][]int32{r.Novel, r.Blocked} {
		for _, i := range rows {
			if seen[i] {
				continue
			}
			seen[i] = true
			if err := cw.Write(Defuse(append(flowRecord(r.Held, int(i)), yesNo(novel[i]), yesNo(blocked[i])))); err != nil {
				return err
			}
		}
	}
	cw.Flush()
	return cw.Error()
}
