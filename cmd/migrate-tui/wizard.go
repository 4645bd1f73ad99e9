package main

import "github.com/spf13/cobra"

func wizardRunE(g *globalOptions, root *cobra.Command) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		return notYet("the interactive wizard")
	}
}
