package helmrender

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"migrate-tui/internal/testworld"
)

// world is the one test world of this package: the API server the rendered
// objects are dry-run against, with the CRDs the test world carries.
var world *testworld.World

// pluginCache is shared by every tofu init of the package's tests.
var pluginCache string

func TestMain(m *testing.M) { os.Exit(run(m)) }

func run(m *testing.M) int {
	tmp, err := os.MkdirTemp("", "helmrender-plugins-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(tmp)
	pluginCache = tmp

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	w, err := testworld.Start(ctx, testworld.Options{CRDs: true})
	if err != nil {
		fmt.Fprintf(os.Stderr, "helmrender: the test world did not start: %v\n", err)
		return 1
	}
	defer w.Stop()
	world = w
	return m.Run()
}
