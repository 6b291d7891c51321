package export

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzSavedPrismFiles: the readers of saved Prism Central responses and of
// the NSX tag mapping take any bytes without panicking, and what they
// accept is well formed: a v3 policy has a uuid, a v4 one an extId, a
// mapping only full paths.
func FuzzSavedPrismFiles(f *testing.F) {
	for _, name := range []string{"v3-discovery-policy.json", "v4-discovery-policy.txt", "categories.json"} {
		data, err := os.ReadFile(filepath.Join("testdata", "prism", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("tag,path\nSGTSDB,/infra/domains/prod/groups/SGTSDB\n"))
	f.Add([]byte("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nETag: x\r\n\r\n{\"extId\":\"a\"}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if p, err := ReadExistingPolicy(data); err == nil {
			switch {
			case p.API == "v3" && (len(p.V3) == 0 || p.V3[0].UUID == ""):
				t.Errorf("v3 policy without uuid: %+v", p)
			case p.API == "v4" && (p.V4 == nil || p.V4.ExtID == ""):
				t.Errorf("v4 policy without extId: %+v", p)
			}
		} else if !errors.Is(err, ErrNotUnderstood) {
			t.Errorf("error %v does not wrap ErrNotUnderstood", err)
		}
		if ids, err := ReadCategoryIDs(data); err == nil && len(ids) == 0 {
			t.Error("an empty category map accepted")
		}
		if m, err := ReadNSXGroups(bytes.NewReader(data)); err == nil {
			for tag, path := range m {
				if tag == "" || !strings.HasPrefix(path, "/") {
					t.Errorf("mapping %q → %q accepted", tag, path)
				}
			}
		}
	})
}
