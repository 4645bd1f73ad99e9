package main

import "github.com/spf13/cobra"

func newApplyCmd(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "apply",
		Short: "(apply: not implemented yet)",
		RunE: func(cmd *cobra.Command, args []string) error {
			return notYet("migrate-tui apply")
		},
	}
}
