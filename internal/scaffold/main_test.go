package scaffold

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	hclv2 "github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/nomad/api"

	"migrate-tui/internal/testtools"
	"migrate-tui/internal/testworld"
	"migrate-tui/internal/tfrunner/tftest"
)

// world is this package's one test world (CRDs for ExternalSecret and
// IngressRoute); nil when -short.
var (
	world       *testworld.World
	pluginCache string
)

func TestMain(m *testing.M) { os.Exit(run(m)) }

func run(m *testing.M) int {
	flag.Parse()
	tmp, err := os.MkdirTemp("", "scaffold-plugins-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(tmp)
	pluginCache = tmp
	if !testing.Short() && os.Getenv("SCAFFOLD_NO_WORLD") == "" {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		w, err := testworld.Start(ctx, testworld.Options{CRDs: true})
		if err != nil {
			fmt.Fprintf(os.Stderr, "scaffold: the test world did not start: %v\n", err)
			return 1
		}
		defer w.Stop()
		world = w
	}
	return m.Run()
}

// fixtures are the realistic homelab jobs under testdata/jobs.
func fixtures(t *testing.T) map[string]*api.Job {
	t.Helper()
	paths, err := filepath.Glob("testdata/jobs/*.json")
	if err != nil || len(paths) < 6 {
		t.Fatalf("want at least six job fixtures, got %d (%v)", len(paths), err)
	}
	jobs := map[string]*api.Job{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var j api.Job
		if err := json.Unmarshal(b, &j); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		jobs[strings.TrimSuffix(filepath.Base(p), ".json")] = &j
	}
	return jobs
}

func sortedNames(m map[string]*api.Job) []string {
	var n []string
	for k := range m {
		n = append(n, k)
	}
	sort.Strings(n)
	return n
}

// newTofu runs the pinned tofu with a CLI config that installs providers
// only from the bootstrap's filesystem mirror.
func newTofu(t *testing.T) Tofu {
	t.Helper()
	return Tofu{Bin: tftest.Tofu(t), Env: tftest.CLIEnv(t, pluginCache)}
}

func repoRoot(t *testing.T) string {
	t.Helper()
	r, err := testtools.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	return r
}

var hclSchema = hclv2.BodySchema{Blocks: []hclv2.BlockHeaderSchema{
	{Type: "variable", LabelNames: []string{"name"}},
	{Type: "output", LabelNames: []string{"name"}},
}}

// stageFixture builds the realistic job name with o and stages the module
// in a scratch tree; it returns the module's directory.
func stageFixture(t *testing.T, name string, o Options) string {
	t.Helper()
	mod, err := Build(fixtures(t)[name], o)
	if err != nil {
		t.Fatal(err)
	}
	md, err := Stage(t.TempDir(), repoRoot(t), mod)
	if err != nil {
		t.Fatal(err)
	}
	return md
}
