package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

// globalOptions are the flags every subcommand shares.
type globalOptions struct {
	Dir string // the repository migrate-tui works on
	In  io.Reader
	Out io.Writer
	Err io.Writer
}

// RepoDir returns the absolute repository directory.
func (g *globalOptions) RepoDir() (string, error) {
	d := g.Dir
	if d == "" {
		d = "."
	}
	abs, err := filepath.Abs(d)
	if err != nil {
		return "", err
	}
	// A --dir that does not exist is bad usage in every command: nothing is
	// created in its place.
	st, err := os.Stat(abs)
	if err != nil {
		return "", usage(fmt.Errorf("repository directory %s: %w (give --dir the repository holding main.tf)", abs, err))
	}
	if !st.IsDir() {
		return "", usage(fmt.Errorf("repository directory %s is not a directory (give --dir the repository holding main.tf)", abs))
	}
	return abs, nil
}

// exitCoder lets a command choose its exit status from the table in
// exitcodes.go; only main exits.
type exitCoder interface {
	error
	ExitCode() int
}

type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return ""
	}
	return e.err.Error()
}
func (e *exitError) Unwrap() error { return e.err }
func (e *exitError) ExitCode() int { return e.code }

// withExit wraps err so main exits with code.
func withExit(code int, err error) error { return &exitError{code: code, err: err} }

// reworded is a command's own message over a typed cause: the message is
// the command's, the exit code comes from the cause through the one table
// (exitCode), not from a code the command repeats.
type reworded struct {
	msg   string
	cause error
}

func (e *reworded) Error() string { return e.msg }
func (e *reworded) Unwrap() error { return e.cause }

// reword says msg for cause.
func reword(cause error, msg string) error { return &reworded{msg: msg, cause: cause} }

func newRootCmd(in io.Reader, out, errOut io.Writer) *cobra.Command {
	g := &globalOptions{In: in, Out: out, Err: errOut}
	root := &cobra.Command{
		Use:   "migrate-tui",
		Short: "Carry a Nomad homelab to Kubernetes (K3s) safely, one decision and one stage at a time",
		Long: `migrate-tui is a terminal assistant for moving a Nomad + Consul + Vault homelab
to a K3s cluster beside it. Run it with no subcommand for the step wizard;
every step has a non-interactive twin below for scripts and CI.`,
		Version:       version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(in)
	root.SetOut(out)
	root.SetErr(errOut)
	root.PersistentFlags().StringVar(&g.Dir, "dir", ".", "the repository migrate-tui works on (holds main.tf and terraform.tfvars)")
	root.RunE = wizardRunE(g, root)
	// Unknown subcommands and flags are bad usage in every command (cobra
	// hands a subcommand its parent's flag error function).
	root.Args = unknownCommand
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usage(err) })
	root.AddCommand(
		newPreflightCmd(g),
		newStatusCmd(g),
		newDecideCmd(g),
		newApplyCmd(g),
		newCheckCmd(g),
		newCutoverCmd(g),
		newSandboxCmd(g),
		newTLSSecretCmd(g),
		newScaffoldCmd(g),
		newRightsizeCmd(g),
		newEvaluateCmd(g),
	)
	withExitHelp(root)
	argsAreUsage(root)
	return root
}
