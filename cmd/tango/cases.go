package main

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/tango-iga/tango/internal/app"
	"github.com/tango-iga/tango/internal/store"
	"github.com/tango-iga/tango/internal/workflow"
)

// casesCmd is `tango cases list [--json]`.
func casesCmd(g *globals) *cobra.Command {
	c := &cobra.Command{Use: "cases", Short: "Lifecycle cases: onboardings, moves and offboardings with their tasks"}
	var f store.CaseFilter
	var asJSON bool
	list := &cobra.Command{
		Use: "list", Short: "List lifecycle cases", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			st, err := app.OpenExistingStore(ctx, app.DSN(g.db))
			if err != nil {
				return err
			}
			defer st.Close()
			cs, err := st.Cases(ctx, f)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				return json.NewEncoder(out).Encode(cs)
			}
			w := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
			fmt.Fprintln(w, "ID\tKIND\tPERSON\tSTATUS\tOPENED\tCLOSED")
			for _, c := range cs {
				closed := "-"
				if c.ClosedAt != nil {
					closed = c.ClosedAt.Local().Format("2006-01-02 15:04")
				}
				fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%s\n", c.ID, c.Kind, c.Person, c.Status, c.OpenedAt.Local().Format("2006-01-02 15:04"), closed)
			}
			return w.Flush()
		},
	}
	list.Flags().StringVar(&f.Kind, "kind", "", "joiner, mover, leaver or leaver.urgent")
	list.Flags().StringVar(&f.Person, "person", "", "only cases of this employee ID")
	list.Flags().StringVar(&f.Status, "status", "", "open or closed")
	list.Flags().BoolVar(&asJSON, "json", false, "print a JSON array")
	c.AddCommand(list)
	return c
}

// tasksReassignCmd is `tango tasks reassign TASK_ID --team TEAM [--assignee ID]`.
func tasksReassignCmd(g *globals) *cobra.Command {
	var team, assignee string
	c := &cobra.Command{
		Use: "reassign TASK_ID --team TEAM", Short: "Give an open task to another team", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := strconv.ParseInt(args[0], 10, 64)
			if err != nil || id <= 0 {
				return usageErr{fmt.Errorf("task ID %q: want a number from `tango tasks list`", args[0])}
			}
			if strings.TrimSpace(team) == "" {
				return usageErr{fmt.Errorf("--team is required: the team that takes the task (hr, it, security, …)")}
			}
			ctx := cmd.Context()
			st, err := app.OpenStore(ctx, app.DSN(g.db))
			if err != nil {
				return err
			}
			defer st.Close()
			cfg, err := app.LoadConfig(g.config)
			if err != nil {
				return err
			}
			t, err := workflow.Reassign(ctx, st, cfg, id, strings.TrimSpace(team), strings.TrimSpace(assignee), cliActor(), time.Now())
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "task %d now with %s: %s\n", t.ID, t.Team, t.Title)
			return nil
		},
	}
	c.Flags().StringVar(&team, "team", "", "the team that takes the task")
	c.Flags().StringVar(&assignee, "assignee", "", "a person's employee ID within it (optional)")
	return c
}
