package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// serveCmd and demoCmd are placeholders until the server lands.
func serveCmd(g *globals) *cobra.Command {
	return &cobra.Command{Use: "serve", Short: "Run the API, SCIM service, web UI and workers",
		RunE: func(*cobra.Command, []string) error { return errors.New("not built yet") }}
}

func demoCmd(g *globals) *cobra.Command {
	return &cobra.Command{Use: "demo", Short: "Run Tango on an embedded database with a sample organisation",
		RunE: func(*cobra.Command, []string) error { return errors.New("not built yet") }}
}
