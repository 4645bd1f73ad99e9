package tfcode

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"migrate-tui/internal/testtools"
	"migrate-tui/internal/testworld"
)

// world is the one test world of this package.
var world *testworld.World

// istioAPIVersion is the istio.io/api module (hack/versions.env) whose CRDs
// match the Istio charts k8s/core/service-mesh pins (TestIstioPinInStep keeps
// them equal).
func istioAPIVersion() string {
	v, err := testtools.Version("ISTIO_API_VERSION")
	if err != nil {
		panic(err)
	}
	return v
}

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	tmp, err := os.MkdirTemp("", "tfcode-plugins-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(tmp)
	pluginCache = tmp

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	// Controllers: the namespace controller finishes namespace deletion (a
	// destroy must leave nothing) and the token controller fills the Vault
	// token reviewer's Secret.
	w, err := testworld.Start(ctx, testworld.Options{CRDs: true, Controllers: true})
	if err != nil {
		fmt.Fprintf(os.Stderr, "tfcode: the test world did not start: %v\n", err)
		return 1
	}
	defer w.Stop()
	world = w
	return m.Run()
}
