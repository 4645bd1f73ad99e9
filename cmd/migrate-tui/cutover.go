package main

import "github.com/spf13/cobra"

func newCutoverCmd(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "cutover",
		Short: "(cutover: not implemented yet)",
		RunE: func(cmd *cobra.Command, args []string) error {
			return notYet("migrate-tui cutover")
		},
	}
}
