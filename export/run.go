package export

// Result is what Run wrote.
type Result struct {
	Written []string // the files, in the order written
	Losses  Losses   // what the vendor bodies could not say exactly
	// NSXExternal are the existing NSX groups the NSX body references,
	// which must exist before it is applied (with an NSX target).
	NSXExternal []string
}

// Run writes the files t asks for (Plan) in order, each whole or not at
// all, and stops at the first error with what it wrote before; the CLI's
// export and the app's Export button both run it. progress, when not nil,
// is called before each file is written (written false) and after
// (written true). A file whose sample lines cannot be read is not written
// (analysis.Table.Err).
func Run(t Targets, in *Input, progress func(j Job, written bool)) (Result, error) {
	if progress == nil {
		progress = func(Job, bool) {}
	}
	var res Result
	for _, j := range Plan(t, in) {
		progress(j, false)
		l, err := j.Write()
		res.Losses = append(res.Losses, l...)
		if err != nil {
			return res, err
		}
		res.Written = append(res.Written, j.Path)
		progress(j, true)
	}
	if t.NSX != "" {
		ext, err := NSXExternalGroups(in.Rules, in.Vendor)
		if err != nil {
			return res, err
		}
		res.NSXExternal = ext
	}
	return res, nil
}
