package cutover_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"migrate-tui/internal/cutover"
)

// A Nomad job whose service already has a module (the PoC's hand-written
// ones) is told to move; one without is told to scaffold first.
func TestListSaysMoveWhenTheModuleExists(t *testing.T) {
	_, c := sim(t)
	repo := t.TempDir()
	if err := os.MkdirAll(filepath.Join(repo, "modules-k8s", "whoami"), 0o755); err != nil {
		t.Fatal(err)
	}
	es, err := cutover.ListNomad(context.Background(), c, nil, repo)
	if err != nil {
		t.Fatal(err)
	}
	next := map[string]string{}
	for _, e := range es {
		next[e.Service] = e.Next
	}
	if !strings.HasPrefix(next["whoami"], "move it: cutover whoami (its module: modules-k8s/whoami") {
		t.Errorf("whoami (module exists): next = %q", next["whoami"])
	}
	if !strings.Contains(next["plex"], "migrate-tui scaffold plex") {
		t.Errorf("plex (no module): next = %q", next["plex"])
	}
}
