package main

import "github.com/spf13/cobra"

func newDecideCmd(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "decide",
		Short: "(decide: not implemented yet)",
		RunE: func(cmd *cobra.Command, args []string) error {
			return notYet("migrate-tui decide")
		},
	}
}
