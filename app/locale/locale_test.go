package locale

import "testing"

func TestNormalise(t *testing.T) {
	tests := []struct {
		Name    string
		Env     map[string]string
		Changed bool
		Want    map[string]string
	}{
		{"C.UTF-8 in LANG", map[string]string{"LANG": "C.UTF-8"}, true,
			map[string]string{"LANG": "C.UTF-8", "LC_MESSAGES": "C"}},
		{"POSIX with a modifier", map[string]string{"LANG": "POSIX@euro"}, true,
			map[string]string{"LANG": "POSIX@euro", "LC_MESSAGES": "POSIX"}},
		{"LC_ALL first", map[string]string{"LC_ALL": "C.utf8", "LANG": "de_DE.UTF-8"}, true,
			map[string]string{"LC_ALL": "C", "LANG": "de_DE.UTF-8"}},
		{"LC_MESSAGES before LANG", map[string]string{"LC_MESSAGES": "C.UTF-8", "LANG": "C.UTF-8"}, true,
			map[string]string{"LC_MESSAGES": "C", "LANG": "C.UTF-8"}},
		{"a real language", map[string]string{"LANG": "en_GB.UTF-8"}, false,
			map[string]string{"LANG": "en_GB.UTF-8"}},
		{"LC_ALL wins over a C LANG", map[string]string{"LC_ALL": "fr_FR.UTF-8", "LANG": "C.UTF-8"}, false,
			map[string]string{"LC_ALL": "fr_FR.UTF-8", "LANG": "C.UTF-8"}},
		{"bare C", map[string]string{"LANG": "C"}, false, map[string]string{"LANG": "C"}},
		{"nothing set", map[string]string{}, false, map[string]string{}},
		{"Ca is not C", map[string]string{"LANG": "Ca.UTF-8"}, false, map[string]string{"LANG": "Ca.UTF-8"}},
	}
	for _, tc := range tests {
		t.Run(tc.Name, func(t *testing.T) {
			env := map[string]string{}
			for k, v := range tc.Env {
				env[k] = v
			}
			got := Normalise(func(k string) string { return env[k] }, func(k, v string) error { env[k] = v; return nil })
			if got != tc.Changed {
				t.Errorf("changed = %v, want %v", got, tc.Changed)
			}
			if len(env) != len(tc.Want) {
				t.Errorf("env %v, want %v", env, tc.Want)
			}
			for k, v := range tc.Want {
				if env[k] != v {
					t.Errorf("%s = %q, want %q (env %v)", k, env[k], v, env)
				}
			}
		})
	}
}
