package main

import "github.com/spf13/cobra"

func newStatusCmd(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "(status: not implemented yet)",
		RunE: func(cmd *cobra.Command, args []string) error {
			return notYet("migrate-tui status")
		},
	}
}
