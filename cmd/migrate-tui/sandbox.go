package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"migrate-tui/internal/sandbox"
)

func newSandboxCmd(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sandbox",
		Short: "Run a local homelab in a box: a real Kubernetes API with three simulated nodes and a simulated Nomad",
		Long: `sandbox starts, in the background, a real kube-apiserver with controllers,
three KWOK nodes shaped like the homelab (hestia amd64, heracles and nyx arm64),
metrics-server, the VPA recommender, K3s's local-path provisioner (the default
StorageClass local-path), the CRDs migrate-tui applies, and a Nomad API
simulator seeded with homelab-like jobs. Try migrate-tui against it:

  eval "$(migrate-tui sandbox up)"
  migrate-tui
  migrate-tui sandbox down

To rehearse scaffold and cutover on your own services, seed the simulated
Nomad with a copy of your running Nomad's jobs instead (every namespace the
token can list; only reads reach that Nomad):

  NOMAD_TOKEN=<a read-only token> migrate-tui sandbox up --nomad-from http://hestia:4646

The test tools must be built first (hack/bootstrap.sh).`,
	}
	cmd.AddCommand(newSandboxUpCmd(g), newSandboxEnvCmd(g), newSandboxDownCmd(g), newSandboxServeCmd(g))
	return cmd
}

func addStateDirFlag(cmd *cobra.Command, p *string) {
	cmd.Flags().StringVar(p, "state-dir", sandbox.DefaultStateDir(), "directory holding the running sandbox's state, kubeconfig and logs")
}

func absStateDir(dir string) (string, error) {
	if dir == "" {
		return "", errors.New("--state-dir is empty")
	}
	return filepath.Abs(dir)
}

type sandboxUpOptions struct {
	g         *globalOptions
	StateDir  string
	Timeout   time.Duration
	NomadFrom string
}

func newSandboxUpCmd(g *globalOptions) *cobra.Command {
	o := &sandboxUpOptions{g: g}
	cmd := &cobra.Command{
		Use:   "up",
		Short: "Start the sandbox in the background and print the environment to use it",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.Complete(); err != nil {
				return err
			}
			return o.Run(cmd.Context())
		},
	}
	addStateDirFlag(cmd, &o.StateDir)
	cmd.Flags().DurationVar(&o.Timeout, "timeout", 6*time.Minute, "how long to wait for the sandbox to become ready")
	cmd.Flags().StringVar(&o.NomadFrom, "nomad-from", "", "seed the sandbox's Nomad with a copy of the jobs of the Nomad at this address (token from $NOMAD_TOKEN; only read, nothing is written to it) instead of the homelab-like seed")
	return cmd
}

func (o *sandboxUpOptions) Complete() error {
	var err error
	o.StateDir, err = absStateDir(o.StateDir)
	return err
}

func (o *sandboxUpOptions) Run(ctx context.Context) error {
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find the migrate-tui binary to start the sandbox server: %w", err)
	}
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	env, already, err := sandbox.Up(ctx, sandbox.UpOptions{
		StateDir: o.StateDir,
		Command:  o.serveCommand(exe),
		Progress: o.g.Err,
	})
	if err != nil {
		return fmt.Errorf("sandbox up: %w", err)
	}
	if already {
		fmt.Fprintf(o.g.Err, "sandbox: already running (pid %d, started %s); `migrate-tui sandbox down` stops it\n",
			env.PID, env.StartedAt.Local().Format(time.DateTime))
		if o.NomadFrom != "" {
			fmt.Fprintf(o.g.Err, "sandbox: --nomad-from %s was not applied: the running sandbox keeps the jobs it started with; run `migrate-tui sandbox down`, then up --nomad-from again\n", o.NomadFrom)
		}
	} else {
		fmt.Fprintf(o.g.Err, "sandbox: ready (pid %d); `migrate-tui sandbox down` stops it\n", env.PID)
	}
	fmt.Fprintln(o.g.Out, env.Exports())
	return nil
}

// serveCommand is the server process up starts. It reads the live Nomad's
// token from its environment (inherited), never from its command line,
// where ps would show it.
func (o *sandboxUpOptions) serveCommand(exe string) []string {
	command := []string{exe, "sandbox", "serve", "--state-dir", o.StateDir}
	if o.NomadFrom != "" {
		command = append(command, "--nomad-from", o.NomadFrom)
	}
	return command
}

type sandboxEnvOptions struct {
	g        *globalOptions
	StateDir string
	JSON     bool
}

func newSandboxEnvCmd(g *globalOptions) *cobra.Command {
	o := &sandboxEnvOptions{g: g}
	cmd := &cobra.Command{
		Use:   "env",
		Short: "Print the running sandbox's KUBECONFIG, NOMAD_ADDR, NOMAD_TOKEN, TF_CLI_CONFIG_FILE and PATH",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if o.StateDir, err = absStateDir(o.StateDir); err != nil {
				return err
			}
			return o.Run()
		},
	}
	addStateDirFlag(cmd, &o.StateDir)
	cmd.Flags().BoolVar(&o.JSON, "json", false, "print the environment as JSON (with the process ids)")
	return cmd
}

func (o *sandboxEnvOptions) Run() error {
	env, err := sandbox.ReadEnv(o.StateDir)
	if err != nil {
		return err
	}
	if o.JSON {
		enc := json.NewEncoder(o.g.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(env)
	}
	fmt.Fprintln(o.g.Out, env.Exports())
	return nil
}

type sandboxDownOptions struct {
	g        *globalOptions
	StateDir string
}

func newSandboxDownCmd(g *globalOptions) *cobra.Command {
	o := &sandboxDownOptions{g: g}
	cmd := &cobra.Command{
		Use:   "down",
		Short: "Stop the sandbox and remove its files",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if o.StateDir, err = absStateDir(o.StateDir); err != nil {
				return err
			}
			return o.Run()
		},
	}
	addStateDirFlag(cmd, &o.StateDir)
	return cmd
}

func (o *sandboxDownOptions) Run() error {
	err := sandbox.Down(o.StateDir, 30*time.Second)
	switch {
	case errors.Is(err, sandbox.ErrNotRunning):
		fmt.Fprintf(o.g.Err, "sandbox: not running (nothing to stop in %s)\n", o.StateDir)
		return nil
	case err != nil:
		return fmt.Errorf("sandbox down: %w", err)
	}
	fmt.Fprintln(o.g.Err, "sandbox: stopped and removed")
	return nil
}

// newSandboxServeCmd is the detached server process `up` starts.
func newSandboxServeCmd(g *globalOptions) *cobra.Command {
	var stateDir, nomadFrom string
	cmd := &cobra.Command{
		Use:    "serve",
		Short:  "Run the sandbox in the foreground (what `up` starts in the background)",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			dir, err := absStateDir(stateDir)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			so := sandbox.ServeOptions{NomadFrom: nomadFrom, NomadFromToken: os.Getenv("NOMAD_TOKEN")}
			if err := sandbox.ServeWith(ctx, dir, so, g.Err); err != nil {
				return err
			}
			return nil
		},
	}
	addStateDirFlag(cmd, &stateDir)
	cmd.Flags().StringVar(&nomadFrom, "nomad-from", "", "copy the jobs of the Nomad at this address (token from $NOMAD_TOKEN, read only)")
	return cmd
}
