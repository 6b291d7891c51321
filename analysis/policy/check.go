package policy

import (
	"fmt"
	"io"
	"maps"
	"net/netip"
	"os"
	"slices"

	"github.com/flowsleuth/flowsleuth/analysis"
	"github.com/flowsleuth/flowsleuth/ingest/inventory"
)

// LoadFiles reads and merges policy files. Errors name the file.
func LoadFiles(paths ...string) (*Set, error) {
	sets := make([]*Set, 0, len(paths))
	for _, path := range paths {
		data, err := readLimited(path, MaxBytes)
		if err != nil {
			return nil, err
		}
		s, err := Load(path, data)
		if err != nil {
			return nil, err
		}
		sets = append(sets, s)
	}
	return Merge(sets...), nil
}

// readLimited reads a file of at most limit bytes.
func readLimited(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("read %s: more than %d MiB: %w", path, limit>>20, ErrTooLarge)
	}
	return data, nil
}

// ReadTagPathsFile, ReadMembersFile and ReadCategoriesFile read the side
// files of a check; errors name the file.
func ReadTagPathsFile(path string) (map[string]string, error) {
	return readSide(path, func(f io.Reader) (map[string]string, error) { return ReadTagPaths(f) })
}

// ReadMembersFile reads a members CSV file (see ReadMembers).
func ReadMembersFile(path string) (map[string][]netip.Prefix, error) {
	return readSide(path, func(f io.Reader) (map[string][]netip.Prefix, error) { return ReadMembers(f) })
}

// ReadCategoriesFile reads a saved categories list (see ReadCategories).
func ReadCategoriesFile(path string) (map[string]string, error) {
	data, err := readLimited(path, MaxEnvBytes)
	if err != nil {
		return nil, err
	}
	m, err := ReadCategories(data)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return m, nil
}

func readSide[T any](path string, read func(io.Reader) (T, error)) (T, error) {
	var zero T
	f, err := os.Open(path)
	if err != nil {
		return zero, fmt.Errorf("read %s: %w", path, err)
	}
	defer f.Close()
	v, err := read(f)
	if err != nil {
		return zero, fmt.Errorf("read %s: %w", path, err)
	}
	return v, nil
}

// Sources say where a check's Env comes from besides the policy bodies:
// the CLI's flags and the app's settings.
type Sources struct {
	VMs         []inventory.VM
	Learn       bool              // groups learned from the logs (LearnedGroups)
	TagPaths    map[string]string // NSX tag → group path, for the learned groups
	Members     map[string][]netip.Prefix
	CategoryIDs map[string]string
	Default     Action
	// EnableDisabled, Intra and Categories are copied to the Env.
	EnableDisabled bool
	Intra          IntraGroup
	Categories     CategoryMatch
}

// Env builds the environment of the conversations of t: the learned groups
// (when Learn) and the members given, united.
func (s Sources) Env(t *analysis.Table) Env {
	groups := map[string][]netip.Prefix{}
	if s.Learn {
		groups = LearnedGroups(t, s.TagPaths)
	}
	for k, ps := range s.Members {
		groups[k] = append(groups[k], ps...)
	}
	return Env{VMs: s.VMs, Groups: groups, CategoryIDs: maps.Clone(s.CategoryIDs), Default: s.Default,
		EnableDisabled: s.EnableDisabled, Intra: s.Intra, Categories: s.Categories}
}

// Result is a check: the compiled program, the verdicts (in the order of
// the conversations) and what they mean.
type Result struct {
	Program  *Program
	Verdicts []Verdict
	Report   Report
}

// Check evaluates set on the conversations of t in env and summarises;
// review gives, per conversation, why synthesis lists it for review
// (rules.ReviewReasons).
func Check(set *Set, env Env, t *analysis.Table, review []string) Result {
	p := set.Compile(env)
	vs := p.Evaluate(t)
	return Result{Program: p, Verdicts: vs, Report: p.Summarize(t, vs, review)}
}

// VMsOf groups inventory entries (address, VM name, groups) into VMs; an
// entry without a name is a VM named after its address.
func VMsOf[E any](entries []E, fields func(E) (ip netip.Addr, name string, groups []string)) []inventory.VM {
	byName := map[string]int{}
	var out []inventory.VM
	for _, e := range entries {
		ip, name, groups := fields(e)
		if name == "" {
			name = ip.String()
		}
		i, ok := byName[name]
		if !ok {
			i = len(out)
			byName[name] = i
			out = append(out, inventory.VM{Name: name})
		}
		vm := &out[i]
		vm.IPs = append(vm.IPs, ip)
		for _, g := range groups {
			if !slices.Contains(vm.Groups, g) {
				vm.Groups = append(vm.Groups, g)
			}
		}
	}
	return out
}
