package main

import "github.com/spf13/cobra"

func newSandboxCmd(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "sandbox",
		Short: "(sandbox: not implemented yet)",
		RunE: func(cmd *cobra.Command, args []string) error {
			return notYet("migrate-tui sandbox")
		},
	}
}
