package export

import (
	"fmt"
	"strings"
	"testing"

	"github.com/flowsleuth/flowsleuth/analysis/rules"
)

func TestEvidenceText(t *testing.T) {
	hosts := make([]string, maxListedHosts+1200)
	for i := range hosts {
		hosts[i] = fmt.Sprintf("ahv-%d", i)
	}
	for _, tc := range []struct {
		name    string
		e       rules.Evidence
		samples []string
		want    string
	}{
		{"one", rules.Evidence{Conversations: 1}, nil, "1 conversation"},
		{"rows when no count", rules.Evidence{Rows: []int32{4, 9}}, []string{"  line one ", "line two"},
			"2 conversations; sample: line one"},
		{"thousands", rules.Evidence{Conversations: 12345, Hosts: []string{"ahv-1", "ahv-2"}}, nil,
			"12,345 conversations; hosts ahv-1, ahv-2"},
		{"many hosts", rules.Evidence{Conversations: 2, Hosts: hosts}, nil,
			"2 conversations; hosts " + strings.Join(hosts[:maxListedHosts], ", ") + " and 1,200 more"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := evidenceText(&tc.e, tc.samples); got != tc.want {
				t.Errorf("evidenceText = %q, want %q", got, tc.want)
			}
		})
	}
}
