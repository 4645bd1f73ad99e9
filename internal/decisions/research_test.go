package decisions

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// research.md is generated from the catalogue; regenerate with
// `go run ./internal/decisions/gen`.
func TestResearchMDMatchesCatalogue(t *testing.T) {
	got, err := os.ReadFile(filepath.Join(repoRoot(t), ResearchPath))
	if err != nil {
		t.Fatalf("%v: run `go run ./internal/decisions/gen` from the repository root", err)
	}
	md := string(got)
	for _, d := range All() {
		if !strings.Contains(md, "`"+d.Key+"`") {
			t.Errorf("research.md does not mention decision %s", d.Key)
		}
		for _, o := range d.Options {
			if !strings.Contains(md, "Option `"+o.Value+"`") {
				t.Errorf("research.md does not discuss option %s of %s", o.Value, d.Key)
			}
		}
	}
	if md != Markdown() {
		t.Errorf("research.md is out of date with the catalogue: run `go run ./internal/decisions/gen`")
	}
}
