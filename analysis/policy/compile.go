package policy

// Compile resolves the set's references against env and indexes its rules.
func (s *Set) Compile(env Env) *Program {
	p := &Program{env: env, res: newResolver(env), vmAt: vmIndex(env.VMs), prot: setOfPrefixes(env.Protected),
		notes: s.notes}
	p.compileNSX(s.nsx)
	p.compileNutanix(s.ntx, s.ntxAux)
	return p
}
