package policy

// Compile resolves the set's references against env and indexes its rules.
func (s *Set) Compile(env Env) *Program {
	p := &Program{env: env, res: newResolver(env), vmAt: vmIndex(env.VMs), prot: setOfPrefixes(env.Protected),
		notes: s.notes}
	p.compileNSX(s.nsx)
	p.compileNutanix(s.ntx, s.ntxAux)
	// The groups are resolved into the rules' address sets: an evaluation
	// never reads them again, and the groups learned from a million
	// conversations are 60 MB of prefixes the caller may drop once compiled.
	p.env.Groups, p.res.env.Groups = nil, nil
	return p
}
