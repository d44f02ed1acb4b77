// Command tango runs the Tango workforce identity lifecycle system: HR
// imports, the API and SCIM service, and the tools around them.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
)

// Exit codes from the public contract.
const (
	exitOK    = 0
	exitFail  = 1
	exitUsage = 2
	exitHeld  = 3
)

// exitError carries an exit code; its message (if any) goes to stderr.
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

type globals struct {
	db     string
	config string
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string) int {
	return execute(ctx, args, os.Stdout, os.Stderr)
}

// execute runs the command line args and returns the exit code; errors go
// to stderr.
func execute(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := newRoot()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintln(stderr, "tango:", ee.err)
		}
		return ee.code
	}
	fmt.Fprintln(stderr, "tango:", err)
	if isUsage(err) {
		return exitUsage
	}
	return exitFail
}

func newRoot() *cobra.Command {
	g := &globals{}
	root := &cobra.Command{
		Use:           "tango",
		Short:         "Tango: HR, IT and Security run the workforce identity lifecycle together",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().StringVar(&g.db, "db", "", "database DSN: sqlite:PATH or postgres://… (default $TANGO_DB, then sqlite:./tango.db)")
	root.PersistentFlags().StringVar(&g.config, "config", "", "config file (default $TANGO_CONFIG, then ./tango.yaml)")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return usageErr{err} })
	root.AddCommand(hrCmd(g), policyCmd(g), reconcileCmd(g), tasksCmd(g), casesCmd(g), requestsCmd(g), auditCmd(g), findingsCmd(g), appsCmd(g), tokenCmd(g), usersCmd(g), sessionsCmd(g), versionCmd(), serveCmd(g), demoCmd(g), configCmd(g), evidenceCmd(g))
	root.AddCommand(opsCmd(g))
	root.AddCommand(reviewsCmd(g))
	for _, c := range root.Commands() {
		markUsage(c)
	}
	return root
}

// usageErr marks bad usage (exit 2).
type usageErr struct{ error }

func isUsage(err error) bool {
	var u usageErr
	if errors.As(err, &u) {
		return true
	}
	// cobra's own argument and command errors
	msg := err.Error()
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand flag", "accepts ", "requires at least", "requires at most", "invalid argument"} {
		if strings.Contains(msg, p) {
			return true
		}
	}
	return false
}

func markUsage(c *cobra.Command) {
	if c.HasSubCommands() && !c.Runnable() {
		// Cobra checks the words after a command group only at the root;
		// below it, `tango hr imprt` would print the help and exit 0.
		c.Args = cobra.ArbitraryArgs
		c.RunE = func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return cmd.Help()
			}
			return usageErr{unknownCommand(cmd, args[0])}
		}
	}
	if c.Args != nil {
		a := c.Args
		c.Args = func(cmd *cobra.Command, args []string) error {
			if err := a(cmd, args); err != nil {
				return usageErr{err}
			}
			return nil
		}
	}
	for _, s := range c.Commands() {
		markUsage(s)
	}
}

// unknownCommand is cobra's own message for a word that names no
// subcommand of cmd, with its suggestions.
func unknownCommand(cmd *cobra.Command, arg string) error {
	msg := fmt.Sprintf("unknown command %q for %q", arg, cmd.CommandPath())
	if cmd.SuggestionsMinimumDistance <= 0 {
		cmd.SuggestionsMinimumDistance = 2 // cobra's default, set only at the root
	}
	if s := cmd.SuggestionsFor(arg); len(s) > 0 {
		msg += "\n\nDid you mean this?\n\t" + strings.Join(s, "\n\t")
	}
	// cobra's own wording, full stop included
	return errors.New(msg + "\n\nRun '" + cmd.CommandPath() + " --help' for usage.")
}
