package testworld

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"
)

// Run is the body of a package's TestMain: it starts one world with o for
// the whole package (into *w), runs the tests and stops the world. who names
// the package when the world does not start. Its result is the exit code.
func Run(m *testing.M, who string, o Options, w **World) int {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	world, err := Start(ctx, o)
	cancel()
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s tests need the test world: %v\n", who, err)
		return 1
	}
	*w = world
	code := m.Run()
	if err := world.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "stopping the test world:", err)
	}
	return code
}

// Main is a TestMain that only needs the world: Run, then exit.
func Main(m *testing.M, who string, o Options, w **World) { os.Exit(Run(m, who, o, w)) }
