package policy

// ntxRule is an allow-list entry compiled against the environment.
type ntxRule struct {
	ref      int32
	peer     members
	svcs     []svc
	svcMaybe bool
}

// ntxGroup is a secured group of a policy in force.
type ntxGroup struct {
	pol        int32 // index into ntxProgram.pols
	m          members
	intraAllow bool
	intraRule  int32
	intraSvcs  []svc // nil: every service
	in, out    []ntxRule
	deny       int32 // the implicit deny of the allow lists
	outOpen    int32 // v3 quarantine with an empty outbound list: the rule admitting everything; -1 otherwise
}

type ntxPolicyInfo struct {
	kind, mode  uint8
	v3          bool
	ipv6Allowed bool
	ipv6Rule    int32 // the implicit rule letting IPv6 by, or denying it (v3)
}

type ntxIsolation struct {
	a, b members
	ref  int32
	mode uint8
}

// ntxProgram is every Nutanix policy in force.
type ntxProgram struct {
	pols       []ntxPolicyInfo
	groups     []ntxGroup
	isolations []ntxIsolation
	covered    members // every member of every secured group
}
