package policy

// nsxEndpoint is a rule's source or destination.
type nsxEndpoint struct {
	m   members
	neg bool
}

// nsxRule is a rule compiled against the environment.
type nsxRule struct {
	ref       int32 // index into Program.rules
	cat       uint8
	action    uint8
	dirIn     bool
	dirOut    bool
	v4, v6    bool
	src, dst  nsxEndpoint
	scope     members // Any when the rule applies to every workload
	svcs      []svc
	svcsMaybe bool     // some service could not be resolved
	key       [5]int64 // category, policy sequence, file and policy order, rule sequence, rule order
	order     [4]uint8 // the tests of matches, the most selective first: 0 scope, 1 source, 2 destination, 3 services
}

// nsxProgram is every NSX rule, in the order the firewall consults them,
// with an index by protocol and port.
type nsxProgram struct {
	rules     []nsxRule
	index     map[uint8]*protoIndex
	other     *protoIndex // protocols no service names specifically
	def       int32       // the default rule's index into Program.rules
	defAction uint8
	scopes    members // every workload some rule is scoped to
}
