package main

import "github.com/spf13/cobra"

func newCheckCmd(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "check",
		Short: "(check: not implemented yet)",
		RunE: func(cmd *cobra.Command, args []string) error {
			return notYet("migrate-tui check")
		},
	}
}
