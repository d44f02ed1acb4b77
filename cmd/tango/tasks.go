package main

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/tango-iga/tango/internal/app"
	"github.com/tango-iga/tango/internal/authz"
	"github.com/tango-iga/tango/internal/request"
	"github.com/tango-iga/tango/internal/store"
	"github.com/tango-iga/tango/internal/workflow"
)

func tasksCmd(g *globals) *cobra.Command {
	c := &cobra.Command{Use: "tasks", Short: "Work for HR, IT and Security teams: list and complete tasks"}
	var f store.CaseTaskFilter
	var asJSON bool
	list := &cobra.Command{
		Use: "list", Short: "List tasks, by team or person", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			st, err := app.OpenExistingStore(ctx, app.DSN(g.db))
			if err != nil {
				return err
			}
			defer st.Close()
			ts, err := st.CaseTasks(ctx, f)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				return json.NewEncoder(out).Encode(ts)
			}
			w := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
			fmt.Fprintln(w, "ID\tTEAM\tASSIGNEE\tPERSON\tSTATUS\tDUE\tTITLE")
			now := time.Now()
			for _, t := range ts {
				due := "-"
				if !t.Due.IsZero() {
					due = t.Due.Local().Format("2006-01-02 15:04")
					if t.Status == store.TaskOpen && t.Due.Before(now) {
						due += " OVERDUE"
					}
				}
				if t.EscalatedTo != "" {
					due += " ESCALATED"
				}
				fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Team, cmp.Or(t.Assignee, "-"), t.Person, t.Status, due, t.Title)
			}
			return w.Flush()
		},
	}
	list.Flags().StringVar(&f.Team, "team", "", "only this team's tasks (hr, it, security, …)")
	list.Flags().StringVar(&f.Person, "person", "", "only tasks about this employee ID")
	list.Flags().StringVar(&f.Assignee, "assignee", "", "only tasks assigned to this employee ID (a manager's own list)")
	list.Flags().StringVar(&f.Status, "status", "", "open, done or skipped")
	list.Flags().BoolVar(&asJSON, "json", false, "print a JSON array")

	var evidence, file, as string
	complete := &cobra.Command{
		Use: "complete TASK_ID --evidence TEXT [--as PERSON]", Short: "Close a human task with its evidence", Args: cobra.ExactArgs(1),
		Long: `Closes a human task with its evidence (of the kind the task needs). With
--as, the person who completes it (a manager attesting their report's
access): they must be allowed to act on the task, and nobody completes a
task about themselves.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := strconv.ParseInt(args[0], 10, 64)
			if err != nil || id <= 0 {
				return usageErr{fmt.Errorf("task ID %q: want a number from `tango tasks list`", args[0])}
			}
			if file != "" {
				if evidence, err = workflow.FileEvidence(file); err != nil {
					return usageErr{err}
				}
			}
			if strings.TrimSpace(evidence) == "" {
				return usageErr{fmt.Errorf("--evidence is empty: say what was done (a ticket, a reference, an attestation)")}
			}
			ctx := cmd.Context()
			st, err := app.OpenStore(ctx, app.DSN(g.db))
			if err != nil {
				return err
			}
			defer st.Close()
			actor := cliActor()
			if as = strings.TrimSpace(as); as != "" {
				if actor, err = taskActorAs(ctx, st, g, id, as); err != nil {
					return err
				}
			}
			t, err := workflow.Complete(ctx, st, id, evidence, actor, time.Now())
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "task %d done: %s\n", t.ID, t.Title)
			return nil
		},
	}
	complete.Flags().StringVar(&evidence, "evidence", "", "what was done: a ticket, a reference, an attestation")
	complete.Flags().StringVar(&file, "file", "", "a file as evidence (its name, SHA-256 and size are recorded)")
	complete.Flags().StringVar(&as, "as", "", "employee ID of the person who completes it (recorded as person:ID via cli:USER)")
	c.AddCommand(list, complete, tasksReassignCmd(g))
	return c
}

// taskActorAs is the audit actor of --as PERSON acting on task id: the
// person's principal, refused when they may not act on the task (a task
// about themselves, another team's).
func taskActorAs(ctx context.Context, st store.Store, g *globals, id int64, as string) (string, error) {
	cfg, err := app.LoadConfig(g.config)
	if err != nil {
		return "", err
	}
	p, err := request.FindPerson(ctx, st, cfg, as)
	if err != nil {
		return "", fmt.Errorf("--as %s: %w", as, err)
	}
	res, err := authz.NewResolver(cfg, st, time.Now)
	if err != nil {
		return "", err
	}
	pr, err := res.ForPerson(ctx, p, nil, cliActor())
	if err != nil {
		return "", fmt.Errorf("--as %s: %w", as, err)
	}
	t, err := st.CaseTask(ctx, id)
	if err != nil {
		return "", err
	}
	if err := pr.ActOnTask(t, nil); err != nil {
		return "", fmt.Errorf("--as %s: %w", as, err)
	}
	return pr.Actor(), nil
}
