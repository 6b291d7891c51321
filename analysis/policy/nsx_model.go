package policy

// nsxBody is what one file holds of NSX.
type nsxBody struct {
	file     string
	policies []*nsxPolicy
	byPath   map[string]*nsxPolicy
	groups   map[string]map[string]any // by path; compiled against the Env
	services map[string]map[string]any // by path
}

// nsxPolicy is one SecurityPolicy as written.
type nsxPolicy struct {
	id, path, name string
	category       string
	seq            int64
	order          int // position in the file, for equal sequence numbers
	scope          []string
	connectivity   string // connectivity_preference (or the deprecated connectivity_strategy)
	rules          []*nsxRuleRaw
	stub           bool // made for rules listed without their policy
}

// nsxRuleRaw is one Rule as written.
type nsxRuleRaw struct {
	id, name       string
	seq            int64
	order          int
	src, dst       []string
	srcNeg, dstNeg bool
	services       []string
	entries        []map[string]any
	profiles       []string // layer 7 context profiles: not decidable from conversations
	scope          []string
	direction      string
	ipProtocol     string
	action         string
	disabled       bool
}
