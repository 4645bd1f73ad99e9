package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"migrate-tui/internal/cutover"
	"migrate-tui/internal/stages"
	"migrate-tui/internal/state"
	"migrate-tui/internal/tfrunner"
)

// migrate-tui's one exit-code table: the same situation exits the same way
// in every command and in the wizard. main is the only place that exits
// (exitCode below); the README, contracts/exit-codes.md and every --help
// (exitHelp) say the same table.
//
// Why these numbers: 0 and 1 are what every shell expects (done / failed),
// and 2 is the usual "bad usage" of Unix tools and of cobra-based CLIs.
// "Refused or not confirmed" gets its own code (3) because a script must tell
// "nothing was changed on purpose" from a failure; 4 (locked) and 5
// (interrupted) keep the numbers apply and preflight already used; 6-8 are
// the outcomes where something WAS changed and the operator has a next step.
const (
	exitOK         = 0 // did what was asked
	exitFailed     = 1 // something failed, or a check failed; the message says what
	exitUsage      = 2 // bad usage: unknown command or flag, a missing or invalid flag, a --dir that does not exist, no terminal; nothing ran
	exitDeclined   = 3 // refused (a guard or the readiness gate blocks) or not confirmed; nothing was changed
	exitLocked     = 4 // another migrate-tui holds the repository's lock, or Terraform's state lock is held
	exitInterrupt  = 5 // interrupted (Ctrl+C); run again to re-plan and continue
	exitVerify     = 6 // applied, but the stage's checks failed
	exitRegressed  = 7 // Nomad regressed against the preflight baseline
	exitRoutingDue = 8 // cutover: waits at the traffic switch, the external Traefik change is not confirmed (the Nomad job still runs)
)

// exitMeaning is each code as --help and the README say it.
var exitMeaning = map[int]string{
	exitOK:         "done",
	exitFailed:     "failed or a check failed",
	exitUsage:      "bad usage (unknown command or flag, missing or invalid flag, missing --dir; nothing ran)",
	exitDeclined:   "refused or not confirmed (nothing changed)",
	exitLocked:     "locked by another migrate-tui or by Terraform's state lock",
	exitInterrupt:  "interrupted (run again to continue)",
	exitVerify:     "applied but the stage's checks failed",
	exitRegressed:  "Nomad regressed against the preflight baseline",
	exitRoutingDue: "cutover waits at the traffic switch: the Traefik change is not confirmed",
}

// commandExitCodes lists the codes each command can return; --help is
// generated from it ("" is the wizard, the root command).
var commandExitCodes = map[string][]int{
	"":           {exitOK, exitFailed, exitUsage, exitLocked},
	"preflight":  {exitOK, exitFailed, exitUsage, exitLocked},
	"status":     {exitOK, exitFailed, exitUsage},
	"decide":     {exitOK, exitFailed, exitUsage, exitLocked},
	"apply":      {exitOK, exitFailed, exitUsage, exitDeclined, exitLocked, exitInterrupt, exitVerify, exitRegressed},
	"check":      {exitOK, exitFailed, exitUsage},
	"cutover":    {exitOK, exitFailed, exitUsage, exitDeclined, exitLocked, exitInterrupt, exitRegressed, exitRoutingDue},
	"sandbox":    {exitOK, exitFailed, exitUsage},
	"tls-secret": {exitOK, exitFailed, exitUsage},
	"scaffold":   {exitOK, exitFailed, exitUsage, exitDeclined},
	"rightsize":  {exitOK, exitFailed, exitUsage},
	"evaluate":   {exitOK, exitFailed, exitUsage},
}

// exitHelp renders the "Exit codes:" paragraph of a command's --help, one
// code a line.
func exitHelp(codes []int) string {
	var b strings.Builder
	b.WriteString("Exit codes:")
	for _, c := range codes {
		fmt.Fprintf(&b, "\n  %d  %s", c, exitMeaning[c])
	}
	return b.String()
}

// argsAreUsage makes every command's argument check (cobra.NoArgs,
// ExactArgs...) bad usage; cobra returns those errors untyped.
func argsAreUsage(c *cobra.Command) {
	if check := c.Args; check != nil {
		c.Args = func(cmd *cobra.Command, args []string) error { return usage(check(cmd, args)) }
	}
	for _, sub := range c.Commands() {
		argsAreUsage(sub)
	}
}

// withExitHelp appends the generated exit-code paragraph to every command's
// long help, from the one table.
func withExitHelp(root *cobra.Command) {
	add := func(c *cobra.Command, name string) {
		codes, ok := commandExitCodes[name]
		if !ok {
			return
		}
		long := strings.TrimSpace(c.Long)
		if long == "" {
			long = c.Short
		}
		c.Long = long + "\n\n" + exitHelp(codes)
	}
	add(root, "")
	for _, c := range root.Commands() {
		add(c, c.Name())
		for _, sub := range c.Commands() {
			add(sub, c.Name())
		}
	}
}

// usageError is bad usage: the command did not run. Its message says what
// was wrong and what to give instead.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// usage marks err as bad usage (exit 2).
func usage(err error) error {
	if err == nil {
		return nil
	}
	return &usageError{err: err}
}

// exitCode maps an error to the table, by type. A held lock and an
// interruption win over any code a command chose, so no command can give
// them another number; then the code a command chose explicitly (withExit,
// for outcomes only it can tell apart); then the typed errors the packages
// return. Anything else failed.
func exitCode(err error) int {
	if err == nil {
		return exitOK
	}
	var (
		locked  *state.LockedError
		tfLock  *tfrunner.LockError
		ec      exitCoder
		use     *usageError
		destroy *tfrunner.DestroyOutsideError
		pre     *stages.PreCheckError
		verify  *stages.VerifyError
		regress *stages.RegressionError
	)
	switch {
	case errors.As(err, &locked), errors.As(err, &tfLock):
		return exitLocked
	case errors.Is(err, tfrunner.ErrInterrupted):
		return exitInterrupt
	case errors.As(err, &ec):
		return ec.ExitCode()
	case errors.As(err, &use):
		return exitUsage
	case errors.Is(err, stages.ErrNotConfirmed), errors.Is(err, cutover.ErrDeclined), errors.Is(err, cutover.ErrNotReady),
		errors.As(err, &destroy), errors.As(err, &pre):
		return exitDeclined
	case errors.As(err, &verify):
		return exitVerify
	case errors.As(err, &regress), errors.Is(err, cutover.ErrRegressions):
		return exitRegressed
	case errors.Is(err, cutover.ErrRouting):
		return exitRoutingDue
	}
	return exitFailed
}

// unknownCommand is the root's argument check: a word that is no subcommand
// is bad usage, with cobra's suggestions.
func unknownCommand(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
	if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
		msg += "; did you mean " + strings.Join(s, " or ") + "?"
	}
	return usage(errors.New(msg + " (see migrate-tui --help)"))
}
